// The Sign page's one script: NCALayer, the NCA RK's signing application on the borrower's computer.
// It speaks NCALayer's WebSocket protocol (module kz.gov.pki.knca.commonUtils, as NCALayer's SDK and the
// open-source clients describe it): createCAdESFromBase64Hash(storage, "SIGNATURE", hash) answers a CMS
// over the hash, which the form posts to the server. Every other way on the page works without script.
(function () {
  "use strict";
  var form = document.getElementById("ncalayer-form");
  if (!form) { return; }
  var button = document.getElementById("ncalayer-sign");
  var status = document.getElementById("ncalayer-status");

  function failed() {
    status.textContent = form.dataset.failed;
    button.disabled = false;
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = "…";
    var socket;
    try { socket = new WebSocket(form.dataset.ncalayer); } catch (error) { failed(); return; }
    var greeted = false;
    var timer = setTimeout(function () { socket.close(); failed(); }, 120000);
    socket.onerror = function () { clearTimeout(timer); failed(); };
    socket.onmessage = function (event) {
      var answer;
      try { answer = JSON.parse(event.data); } catch (error) { socket.close(); failed(); return; }
      if (!greeted) {   // NCALayer greets with its version first
        greeted = true;
        socket.send(JSON.stringify({module: "kz.gov.pki.knca.commonUtils", method: "createCAdESFromBase64Hash",
                                    args: ["PKCS12", "SIGNATURE", form.dataset.digest]}));
        return;
      }
      clearTimeout(timer);
      socket.close();
      if (String(answer.code) !== "200" || !answer.responseObject) { failed(); return; }
      form.elements.cms.value = answer.responseObject;
      form.submit();
    };
  });
})();
