/* Show-if of the residents' survey page: a question with data-show-if="qN" and
 * data-show-value="OPTION" is shown only while that option of question N is chosen.
 * Without this script every question shows, and the server ignores the answers of
 * questions whose condition is not met. */
(function () {
  'use strict';
  function update(form) {
    form.querySelectorAll('[data-show-if]').forEach(function (box) {
      var name = box.getAttribute('data-show-if');
      var want = box.getAttribute('data-show-value');
      var parent = document.getElementById('box-' + name);
      var shown = !parent || !parent.hidden;
      var chosen = Array.prototype.some.call(
        form.querySelectorAll('input[name="' + name + '"]:checked'),
        function (el) { return el.value === want; }
      );
      box.hidden = !(shown && chosen);
    });
  }
  function init() {
    var form = document.querySelector('form');
    if (!form) return;
    if (form.hasAttribute('data-preview')) {
      form.addEventListener('submit', function (e) { e.preventDefault(); });
    }
    form.addEventListener('change', function () { update(form); });
    update(form);
    // One tap sends the page once; the server recognises a second sending anyway.
    form.addEventListener('submit', function () {
      var button = form.querySelector('button[type=submit]');
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
