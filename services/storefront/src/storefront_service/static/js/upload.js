/*
 * Direct uploads to the object store (gig cover, chat file, delivery files).
 *
 * Markup (templates/selling/gig_form.html, inbox/conversation.html, orders/order.html):
 *   <div data-upload data-upload-area="gigs" data-upload-url="/media/uploads" data-upload-multiple>
 *     <label for="cover-file">Cover image</label> <input type="file" id="cover-file">
 *     <input type="hidden" name="cover_image_key" data-upload-key>      (one key, or one per file if multiple)
 *     <p data-upload-status role="status" aria-live="polite"></p>
 *   </div>
 *
 * The storefront asks the gateway for a presigned POST (media.createUpload, server-side: the page never holds
 * a token); the browser then POSTs the file straight to that URL. That request, to the object store's origin,
 * is the only one the storefront's pages make off their own origin (CSP connect-src names exactly it).
 * The form's submit buttons stay disabled while an upload runs, so a form never goes out with a half key.
 */
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function say(box, text, failed) {
    var status = box.querySelector("[data-upload-status]");
    if (status) {
      status.textContent = text;
      status.classList.toggle("error", Boolean(failed));
    }
  }

  function setBusy(box, busy) {
    var form = box.closest("form");
    if (!form) {
      return;
    }
    form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]').forEach(function (b) {
      b.disabled = busy;
    });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  // Step 1, same origin: the storefront asks media.createUpload for this file's presigned form.
  function plan(box, file) {
    var body = new URLSearchParams({
      area: box.getAttribute("data-upload-area"),
      content_type: file.type || "application/octet-stream",
      size: String(file.size),
      filename: file.name,
      csrf_token: csrfToken,
    });
    return fetch(box.getAttribute("data-upload-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken, Accept: "application/json" },
      body: body,
    }).then(function (response) {
      return response.json().then(
        function (data) {
          if (!response.ok) {
            throw new Error((data && data.message) || "The upload was refused (" + response.status + ").");
          }
          return data;
        },
        function () {
          throw new Error("The upload could not be prepared (" + response.status + ").");
        }
      );
    });
  }

  // Step 2, the object store's origin: the presigned fields first, the file last (S3 POST policy order).
  function send(form, file) {
    var data = new FormData();
    Object.keys(form.fields).forEach(function (name) {
      data.append(name, form.fields[name]);
    });
    data.append("file", file);
    return fetch(form.url, { method: "POST", body: data, mode: "cors", credentials: "omit" }).then(
      function (response) {
        if (!response.ok) {
          throw new Error("The file store refused the file (" + response.status + ").");
        }
        return form.key;
      }
    );
  }

  function keyInputs(box) {
    return box.querySelectorAll("[data-upload-key]");
  }

  function handle(box, input) {
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length === 0) {
      return;
    }
    var multiple = box.hasAttribute("data-upload-multiple");
    if (!multiple) {
      files = files.slice(0, 1);
    }
    var before = Array.prototype.map.call(keyInputs(box), function (el) {
      return el.value;
    });
    setBusy(box, true);
    say(box, "Uploading " + files.map(function (f) { return f.name; }).join(", ") + "…", false);
    var chain = Promise.resolve([]);
    files.forEach(function (file) {
      chain = chain.then(function (keys) {
        return plan(box, file)
          .then(function (form) {
            return send(form, file);
          })
          .then(function (key) {
            return keys.concat([key]);
          });
      });
    });
    chain
      .then(function (keys) {
        var template = keyInputs(box)[0];
        if (multiple) {
          keyInputs(box).forEach(function (el, index) {
            if (index > 0) {
              el.remove();
            }
          });
          keys.forEach(function (key, index) {
            var el = index === 0 ? template : template.cloneNode(false);
            el.value = key;
            if (index > 0) {
              template.parentNode.appendChild(el);
            }
          });
        } else {
          template.value = keys[0];
        }
        var preview = box.querySelector("[data-upload-preview]");
        if (preview && files[0].type.indexOf("image/") === 0 && window.FileReader) {
          // A data: URL (the CSP's img-src allows data:, not blob:).
          var reader = new FileReader();
          reader.onload = function () {
            preview.src = reader.result;
            preview.hidden = false;
          };
          reader.readAsDataURL(files[0]);
        }
        box.setAttribute("data-upload-done", "true");
        say(box, "Uploaded: " + files.map(function (f) { return f.name; }).join(", "), false);
      })
      .catch(function (error) {
        // The previous key (an edited gig's current cover) stays: a failed upload changes nothing.
        keyInputs(box).forEach(function (el, index) {
          el.value = index < before.length ? before[index] : "";
        });
        say(box, error.message || "The upload failed.", true);
      })
      .finally(function () {
        setBusy(box, false);
      });
  }

  document.querySelectorAll("[data-upload]").forEach(function (box) {
    var input = box.querySelector('input[type="file"]');
    if (!input) {
      return;
    }
    box.removeAttribute("data-upload-done");
    input.addEventListener("change", function () {
      handle(box, input);
    });
  });
})();
