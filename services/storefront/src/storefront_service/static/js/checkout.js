/*
 * Checkout (templates/orders/checkout.html).
 *
 * Local payment provider (development and test): the page is a plain form whose button asks the storefront
 * to complete the payment through payments.devConfirm; this file only keeps it from being sent twice.
 *
 * Stripe, only when a publishable key is configured: the page then also loads https://js.stripe.com/v3/ (the
 * storefront's CSP names Stripe's origins only in that case) and this file mounts the Payment Element for the
 * order's PaymentIntent client secret. Stripe redirects to the order page after confirming; the order moves to
 * in progress only when the order service has a verified webhook, which that page shows.
 */
(function () {
  "use strict";

  document.querySelectorAll("form[data-single-submit]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-submitted") === "true") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitted", "true");
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.textContent = button.getAttribute("data-busy-text") || "Working…";
      });
    });
  });

  var box = document.querySelector("[data-stripe-payment]");
  if (!box) {
    return;
  }
  var message = box.querySelector("[data-payment-message]");
  var form = box.closest("form");
  var button = form ? form.querySelector('button[type="submit"]') : null;

  function say(text) {
    if (message) {
      message.textContent = text;
    }
  }

  if (typeof window.Stripe !== "function") {
    say("The card form could not be loaded. Check your connection and reload the page.");
    if (button) {
      button.disabled = true;
    }
    return;
  }
  var stripe = window.Stripe(box.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: box.getAttribute("data-client-secret") });
  var payment = elements.create("payment");
  payment.mount(box.querySelector("[data-payment-element]"));

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button) {
        button.disabled = true;
      }
      say("Confirming your payment…");
      stripe
        .confirmPayment({ elements: elements, confirmParams: { return_url: box.getAttribute("data-return-url") } })
        .then(function (result) {
          // Only reached on an error: success redirects to return_url.
          if (result && result.error) {
            say(result.error.message || "The payment did not go through.");
            if (button) {
              button.disabled = false;
            }
          }
        });
    });
  }
})();
