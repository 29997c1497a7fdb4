/*
 * Live order and notification updates on pages that opt in (orders/order.html, orders/notifications.html,
 * orders/list.html): <main data-live-orders> ... <span data-testid="notification-count">.
 *
 * The socket goes through the storefront's websocket proxy (/realtime/socket.io), as on the conversation page.
 * An `order.updated` for the order on screen re-fetches its server-rendered panel (state, next actions with
 * fresh versions and CSRF tokens); a `notification.created` bumps the unread count and, on the notifications
 * page, announces that there is something new. No data from the push is put into the DOM as HTML.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-orders]");
  if (!root || typeof window.io !== "function") {
    return;
  }
  var panel = document.querySelector('[data-testid="order-panel"]');
  var orderId = panel ? panel.getAttribute("data-order-id") : null;
  var announce = document.querySelector('[data-testid="live-status"]');

  function say(text) {
    if (announce) {
      announce.textContent = text;
    }
  }

  function refreshPanel() {
    var url = panel.getAttribute("data-fragment-url");
    if (!url) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html; // server-rendered and escaped by Jinja2 autoescaping
        var fresh = template.content.querySelector('[data-testid="order-panel"]');
        if (fresh) {
          panel.replaceWith(fresh);
          panel = fresh;
          say("This order was updated.");
        }
      })
      .catch(function () {
        say("This order changed; reload the page to see it.");
      });
  }

  var socket = window.io({ path: "/realtime/socket.io", transports: ["websocket"] });
  var connectedOnce = false;

  socket.on("connect", function () {
    // After a reconnect the panel may be stale: whatever happened meanwhile is fetched.
    if (connectedOnce && panel) {
      refreshPanel();
    }
    connectedOnce = true;
  });

  socket.on("order.updated", function (data) {
    var order = data && (data.order || data);
    var id = order && (order.id || order.order_id);
    if (panel && id === orderId) {
      refreshPanel();
    }
  });

  socket.on("notification.created", function () {
    document.querySelectorAll('[data-testid="notification-count"]').forEach(function (badge) {
      var count = (parseInt(badge.textContent, 10) || 0) + 1;
      badge.textContent = String(count);
      badge.hidden = false;
    });
    if (root.hasAttribute("data-live-notifications")) {
      say("You have a new notification. Reload to see it.");
    }
  });
})();
