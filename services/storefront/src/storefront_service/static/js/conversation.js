/*
 * Live conversation (templates/inbox/conversation.html).
 *
 * The page is complete without this file: messages are server-rendered and the send form posts normally.
 * With it, messages arrive without a reload. The socket goes to the storefront's own origin
 * (/realtime/socket.io), which proxies it to the gateway with the session's token: this page never sees one.
 *
 * Every arrival, reconnect or offer change asks the storefront for server-rendered <li>s of the messages
 * after the last seq shown (chat.messages?after=), so offer cards and their CSRF-protected forms are rendered
 * in one place (templates/inbox/_message.html) and message text is never put into the DOM as HTML here.
 * Delivery is at least once (a push and a catch-up can carry the same message): duplicates are dropped by
 * message id.
 */
(function () {
  "use strict";

  var list = document.querySelector('[data-testid="message-list"]');
  if (!list || typeof window.io !== "function") {
    return;
  }
  // Empty until the first message exists; then learnt from the first push between us and the other user.
  var conversationId = list.getAttribute("data-conversation-id");
  var otherId = list.getAttribute("data-other-id");
  var fragmentUrl = list.getAttribute("data-fragment-url");
  var readUrl = list.getAttribute("data-read-url");
  var status = document.querySelector('[data-testid="live-status"]');
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var fetching = null;
  var pendingAfter = null; // a catch-up asked for while one was in flight: the lowest seq wins

  function lastSeq() {
    var seq = 0;
    list.querySelectorAll("[data-seq]").forEach(function (item) {
      seq = Math.max(seq, parseInt(item.getAttribute("data-seq"), 10) || 0);
    });
    return seq;
  }

  function known(id) {
    return list.querySelector('[data-message-id="' + CSS.escape(id) + '"]');
  }

  function setStatus(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function markRead(upTo) {
    if (!readUrl || upTo < 1) {
      return;
    }
    var body = new URLSearchParams({ up_to_seq: String(upTo), csrf_token: csrfToken });
    fetch(readUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken, "HX-Request": "true" },
      body: body,
    }).catch(function () {
      /* a receipt that fails is retried by the next arrival or page view */
    });
  }

  // The server-rendered messages after `after`, oldest first; replaces known ones (offer state), adds new ones.
  function catchUp(after) {
    if (fetching) {
      pendingAfter = pendingAfter === null ? after : Math.min(pendingAfter, after);
      return fetching;
    }
    var url = fragmentUrl + "?after=" + encodeURIComponent(String(after));
    fetching = fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html; // server-rendered and escaped by Jinja2 autoescaping
        var added = false;
        Array.prototype.slice.call(template.content.querySelectorAll("[data-message-id]")).forEach(function (item) {
          var existing = known(item.getAttribute("data-message-id"));
          if (existing) {
            existing.replaceWith(item);
          } else {
            list.appendChild(item);
            added = true;
          }
        });
        if (added) {
          var newest = list.lastElementChild;
          if (newest && typeof newest.scrollIntoView === "function") {
            newest.scrollIntoView({ block: "end" });
          }
          markRead(lastSeq());
        }
        var empty = document.querySelector('[data-testid="no-messages"]');
        if (empty && list.querySelector("[data-message-id]")) {
          empty.remove();
        }
      })
      .catch(function () {
        setStatus("Could not load new messages; retrying when the connection is back.");
      })
      .finally(function () {
        fetching = null;
        if (pendingAfter !== null) {
          var next = pendingAfter;
          pendingAfter = null;
          catchUp(next);
        }
      });
    return fetching;
  }

  var socket = window.io({ path: "/realtime/socket.io", transports: ["websocket"] });

  socket.on("connect", function () {
    setStatus("Live: new messages appear here.");
    // Covers both the first connect and every reconnect: whatever was persisted meanwhile is fetched.
    catchUp(lastSeq());
  });
  socket.on("disconnect", function () {
    setStatus("Reconnecting…");
  });
  socket.on("connect_error", function () {
    setStatus("Live updates unavailable; reload the page to see new messages.");
  });

  function concernsUs(data) {
    if (!data) {
      return false;
    }
    if (!conversationId && otherId && (data.sender_id === otherId || data.recipient_id === otherId)) {
      conversationId = data.conversation_id;
    }
    return Boolean(conversationId) && data.conversation_id === conversationId;
  }

  socket.on("message.created", function (message) {
    if (!concernsUs(message) || known(message.id)) {
      return; // another conversation, or already shown (at-least-once delivery)
    }
    catchUp(lastSeq());
  });
  socket.on("message.updated", function (message) {
    if (!concernsUs(message)) {
      return;
    }
    var seq = parseInt(message.seq, 10);
    catchUp(isNaN(seq) ? lastSeq() : Math.min(seq - 1, lastSeq()));
  });
  socket.on("offer.updated", function (offer) {
    if (!concernsUs(offer)) {
      return;
    }
    var card = list.querySelector('[data-offer-id="' + CSS.escape(offer.id) + '"]');
    var item = card ? card.closest("[data-seq]") : null;
    var seq = item ? parseInt(item.getAttribute("data-seq"), 10) : NaN;
    catchUp(isNaN(seq) ? lastSeq() : seq - 1);
  });
})();
