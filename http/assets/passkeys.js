// Tessera hosted pages: passkeys with the browser's WebAuthn API.
//
// Served from this origin (the CSP allows no inline script). Elements:
//   #passkey-sign-in  sign-in page: data-start, data-finish, data-app, data-csrf
//   #passkey-mfa      MFA step: data-start, data-finish, data-app, data-csrf, data-mfa-token
//   #passkey-register passkeys page: data-start, data-finish (+ #passkey-name)
//   .passkey-rename / .passkey-delete in .passkey-row: data-href
//   #passkey-status   where errors are shown
// Options arrive in the W3C JSON form and answers leave in it
// (PublicKeyCredential.parse*OptionsFromJSON / toJSON, with a fallback for
// browsers that lack them).
(function () {
  'use strict';

  function b64uToBuf(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: b64uToBuf(c.id) });
    });
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: b64uToBuf(json.challenge),
      user: Object.assign({}, json.user, { id: b64uToBuf(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: b64uToBuf(json.challenge),
      allowCredentials: withIds(json.allowCredentials)
    });
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === 'function') return cred.toJSON();
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufToB64u(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64u(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64u(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    }
    if (r.signature) {
      out.response.authenticatorData = bufToB64u(r.authenticatorData);
      out.response.signature = bufToB64u(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64u(r.userHandle);
    }
    return out;
  }

  function send(method, url, body, headers) {
    var init = {
      method: method,
      credentials: 'same-origin',
      headers: Object.assign({ Accept: 'application/json' }, headers || {})
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var msg = data && data.error && data.error.message;
          throw new Error(msg || 'The request failed (' + res.status + ').');
        }
        return data;
      });
    });
  }

  function showStatus(msg) {
    var el = document.getElementById('passkey-status');
    if (!el) return;
    el.textContent = msg || '';
    el.hidden = !msg;
  }

  function describe(err) {
    if (err && err.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out.';
    if (err && err.name === 'InvalidStateError') return 'This passkey is already registered.';
    return (err && err.message) || 'Something went wrong.';
  }

  function bind(el, action) {
    el.addEventListener('click', function () {
      el.disabled = true;
      showStatus('');
      Promise.resolve()
        .then(function () { return action(el); })
        .catch(function (err) { showStatus(describe(err)); })
        .then(function () { el.disabled = false; });
    });
  }

  function appHeaders(el) {
    return el.dataset.app ? { 'X-Tessera-App': el.dataset.app } : {};
  }

  function signIn(btn) {
    var ceremony;
    return send('POST', btn.dataset.start, {}, appHeaders(btn))
      .then(function (start) {
        ceremony = start.ceremony;
        return navigator.credentials.get({ publicKey: requestOptions(start.publicKey) });
      })
      .then(function (cred) {
        return send('POST', btn.dataset.finish, {
          csrf: btn.dataset.csrf, ceremony: ceremony, credential: credentialJSON(cred)
        });
      })
      .then(function (done) { window.location.assign(done.redirect); });
  }

  function mfa(btn) {
    var token = btn.dataset.mfaToken;
    var ceremony;
    return send('POST', btn.dataset.start, { mfa_token: token }, appHeaders(btn))
      .then(function (start) {
        ceremony = start.ceremony;
        return navigator.credentials.get({ publicKey: requestOptions(start.publicKey) });
      })
      .then(function (cred) {
        return send('POST', btn.dataset.finish, {
          csrf: btn.dataset.csrf, mfa_token: token, ceremony: ceremony, credential: credentialJSON(cred)
        });
      })
      .then(function (done) { window.location.assign(done.redirect); });
  }

  function register(btn) {
    var nameInput = document.getElementById('passkey-name');
    var ceremony;
    return send('POST', btn.dataset.start, {})
      .then(function (start) {
        ceremony = start.ceremony;
        return navigator.credentials.create({ publicKey: creationOptions(start.publicKey) });
      })
      .then(function (cred) {
        return send('POST', btn.dataset.finish, {
          ceremony: ceremony,
          credential: credentialJSON(cred),
          name: nameInput && nameInput.value ? nameInput.value : null
        });
      })
      .then(function () { window.location.reload(); });
  }

  function rename(btn) {
    var row = btn.closest('.passkey-row');
    var input = row && row.querySelector('.passkey-name');
    return send('PATCH', btn.dataset.href, { name: input ? input.value : '' })
      .then(function (pk) {
        if (input) input.value = pk.name;
        showStatus('');
      });
  }

  function remove(btn) {
    if (!window.confirm('Delete this passkey? You will not be able to sign in with it any more.')) {
      return Promise.resolve();
    }
    return send('DELETE', btn.dataset.href).then(function () { window.location.reload(); });
  }

  var supported = typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;

  function init() {
    var unsupported = document.getElementById('passkey-unsupported');
    if (unsupported) unsupported.hidden = supported;
    [['passkey-sign-in', signIn], ['passkey-mfa', mfa], ['passkey-register', register]].forEach(function (pair) {
      var el = document.getElementById(pair[0]);
      if (!el || !supported) return;
      el.hidden = false;
      bind(el, pair[1]);
    });
    document.querySelectorAll('.passkey-rename').forEach(function (el) { bind(el, rename); });
    document.querySelectorAll('.passkey-delete').forEach(function (el) { bind(el, remove); });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
