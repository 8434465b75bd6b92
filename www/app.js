/*
 * app.js: the lookup without a page load.  The form works without this
 * file (the server answers /lookup with the whole page); with it, the
 * answer comes from /lookup.json and is drawn here with DOM calls only
 * (no innerHTML: nothing the server says is taken for markup).  Nothing
 * is fetched from anywhere but this origin.
 */
"use strict";

(function () {
	var form = document.getElementById("lookup-form");
	var input = document.getElementById("addr");
	var out = document.getElementById("result");
	var reasons = {
		superseded: "superseded", compromised: "compromised",
		retired: "retired", unspecified: "unspecified"
	};

	if (!form || !input || !out || !window.fetch)
		return;

	function el(tag, attrs, text) {
		var e = document.createElement(tag), k;

		for (k in attrs || {})
			e.setAttribute(k, attrs[k]);
		if (text !== undefined && text !== null)
			e.textContent = text;
		return e;
	}

	function day(iso) {
		return iso ? iso.slice(0, 10) : "";
	}

	function fpr(s) {
		return el("code", { "class": "fpr" },
		    (s || "").replace(/(.{4})(?=.)/g, "$1 "));
	}

	function pair(dl, name, value) {
		var dd = el("dd");

		dl.appendChild(el("dt", null, name));
		if (typeof value === "string")
			dd.textContent = value;
		else
			dd.appendChild(value);
		dl.appendChild(dd);
	}

	function when(iso, expired) {
		var span = el("span");

		if (!iso)
			return "never";
		span.appendChild(el("time", { datetime: iso }, day(iso)));
		if (expired)
			span.appendChild(document.createTextNode(" (expired)"));
		return span;
	}

	function part(dl, k) {
		pair(dl, "Algorithm", k.algorithm +
		    (k.bits ? ", " + k.bits + " bits" : ""));
		pair(dl, "Purposes", k.purposes && k.purposes.length ?
		    k.purposes.join(", ") : "none stated");
		pair(dl, "Created", when(k.created, false));
		pair(dl, "Expires", when(k.expires, k.expired));
	}

	function key(j) {
		var state = j.known ? j.state : "valid";
		var a = el("article", { "class": "key " + state,
		    "aria-labelledby": "res-h" });
		var h = el("h2", { id: "res-h" }, "Key for ");
		var dl, ul, li, sdl, p, badge, i;

		h.appendChild(el("span", { "class": "addr" }, j.address));
		a.appendChild(h);
		if (!j.fingerprint) {
			a.appendChild(el("p", { "class": "badge" }, "Published"));
			a.appendChild(el("p", null, "A key is published for " +
			    "this address; its details were not recorded."));
		} else {
			if (state === "revoked") {
				badge = "Revoked (" + (reasons[j.revocation.reason] ||
				    "unspecified") + ")" + (j.revocation.text ?
				    ": " + j.revocation.text : "");
				a.appendChild(el("p", { "class": "badge" }, badge));
				a.appendChild(el("p", null,
				    "Do not encrypt to this key."));
			} else
				a.appendChild(el("p", { "class": "badge" },
				    state === "expired" ? "Expired" :
				    j.known ? "Valid" : "Published"));
			dl = el("dl");
			pair(dl, "Fingerprint", fpr(j.fingerprint));
			pair(dl, "User ID", j.uid);
			if (j.known)
				part(dl, j);
			a.appendChild(dl);
			if (j.known && j.subkeys && j.subkeys.length) {
				a.appendChild(el("h3", null, "Subkeys"));
				ul = el("ul", { "class": "subkeys" });
				for (i = 0; i < j.subkeys.length; i++) {
					li = el("li", { "class": j.subkeys[i].revoked ?
					    "revoked" : j.subkeys[i].expired ?
					    "expired" : "valid" });
					sdl = el("dl");
					pair(sdl, "Fingerprint",
					    fpr(j.subkeys[i].fingerprint));
					part(sdl, j.subkeys[i]);
					if (j.subkeys[i].revoked)
						pair(sdl, "State", "revoked");
					li.appendChild(sdl);
					ul.appendChild(li);
				}
				a.appendChild(ul);
			}
		}
		p = el("p", { "class": "downloads" });
		p.appendChild(el("a", { "class": "button", href: j.links.pgp,
		    download: (j.fingerprint || "key") + ".pgp" },
		    "Download key (.pgp, binary)"));
		p.appendChild(document.createTextNode(" "));
		p.appendChild(el("a", { "class": "button", href: j.links.asc,
		    download: (j.fingerprint || "key") + ".asc" },
		    "Download key (.asc, armored)"));
		a.appendChild(p);
		return a;
	}

	function notice(cls, title, text, addr) {
		var d = el("div", { "class": "notice " + cls,
		    role: cls === "miss" ? "status" : "alert" });
		var p = el("p", null, text);

		d.appendChild(el("h2", null, title));
		if (addr) {
			p.appendChild(document.createTextNode(" "));
			p.appendChild(el("span", { "class": "addr" }, addr));
		}
		d.appendChild(p);
		return d;
	}

	function show(node) {
		while (out.firstChild)
			out.removeChild(out.firstChild);
		out.appendChild(node);
	}

	function lookup(addr, push) {
		var q = "?addr=" + encodeURIComponent(addr);

		out.setAttribute("aria-busy", "true");
		return fetch("/lookup.json" + q, {
			headers: { Accept: "application/json" },
			credentials: "same-origin"
		}).then(function (r) {
			if (r.status === 429) {
				show(notice("error", "Too many lookups",
				    "Please wait " + (r.headers.get("Retry-After") ||
				    "a few") + " seconds and try again."));
				return;
			}
			return r.json().then(function (j) {
				if (r.ok)
					show(key(j));
				else if (r.status === 404 && j.error ===
				    "no key published")
					show(notice("miss", "No key published",
					    "No key is published for", j.address));
				else
					show(notice("error", r.status === 404 ?
					    "Not an address of this domain" :
					    "Not an address", j.error));
			});
		}).then(function () {
			out.removeAttribute("aria-busy");
			if (push)
				history.pushState({ addr: addr }, "",
				    "/lookup" + q);
		}, function () {
			/* No answer we can read: let the server draw it. */
			out.removeAttribute("aria-busy");
			form.submit();
		});
	}

	form.addEventListener("submit", function (ev) {
		var v = input.value.trim();

		ev.preventDefault();
		if (v === "") {
			input.focus();
			return;
		}
		lookup(v, true);
	});

	window.addEventListener("popstate", function (ev) {
		if (ev.state && ev.state.addr) {
			input.value = ev.state.addr;
			lookup(ev.state.addr, false);
		} else {
			input.value = "";
			while (out.firstChild)
				out.removeChild(out.firstChild);
		}
	});
}());
