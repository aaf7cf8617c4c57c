/* The card payment page: Stripe's Payment Element (or a Stripe.js stand-in such as localstripe's).
   Everything it needs comes from the data attributes of #card-box. */
(function () {
  var box = document.getElementById('card-box');
  var returnUrl = new URL(box.dataset.return, window.location.href).href;  // the host the buyer uses
  var stripe = Stripe(box.dataset.pk);
  var elements = stripe.elements({clientSecret: box.dataset.secret, locale: 'vi'});
  var element = elements.create('payment');
  element.mount('#payment-element');
  var form = document.getElementById('card-form');
  var message = document.getElementById('card-message');
  var button = document.getElementById('pay-button');
  function fail(error) {
    message.textContent = (error && error.message) || box.dataset.failed;
    button.disabled = false;
  }
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    button.disabled = true;
    message.textContent = '';
    try {
      if (typeof stripe.confirmPayment === 'function') {
        // Stripe.js: the Payment Element confirms in the page (3-D Secure included).
        var result = await stripe.confirmPayment({elements: elements, redirect: 'if_required',
                                                  confirmParams: {return_url: returnUrl}});
        if (result.error) { return fail(result.error); }
        window.location.assign(returnUrl);
        return;
      }
      // A Stripe.js stand-in without confirmPayment (localstripe): tokenise, confirm on the server.
      var tokenResult = await stripe.createToken(element);
      if (tokenResult.error) { return fail(tokenResult.error); }
      var response = await fetch(box.dataset.confirm, {
        method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': box.dataset.csrf},
        body: JSON.stringify({payment_method: tokenResult.token.card.id})});
      var body = await response.json();
      if (body.error) { return fail({message: body.error}); }
      if (body.status === 'requires_action') {
        var auth = await stripe.confirmCardPayment(body.client_secret);
        if (auth.error) { return fail(auth.error); }
      }
      window.location.assign(returnUrl);
    } catch (error) { fail(error); }
  });
})();
