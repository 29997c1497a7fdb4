// Site-wide behaviour for every page (no inline scripts: the CSP allows only files from /static/).
// Page-specific scripts live in static/js/ and are included by their templates.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms with data-confirm ask first (cancel an order, delete a gig); no inline onclick needed.
  document.body.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
});

// htmx: an error answer (4xx/5xx page) replaces the target so the message is seen, instead of nothing
// happening; the 503 and 403 pages carry their explanation.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// After htmx swaps new content in (next page of results), move focus to it for keyboard and screen readers.
document.addEventListener("htmx:afterSettle", (event) => {
  const focusTarget = event.detail.target.querySelector("[data-focus-after-swap]");
  if (focusTarget) {
    focusTarget.focus();
  }
});
