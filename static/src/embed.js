/*! Leadwheel embed.js, see docs/embed.md */
// The readable source of static/embed.js. Edit this file, then rebuild the served one:
//   scripts/build-embed
// (esbuild, pinned, from the npm registry; tests/capture/web/test_assets.py checks the two agree.)
(() => {
	"use strict";
	const W = window, D = document, old = W.leadwheel;
	// only set during this first run
	const me = D.currentScript || D.querySelector('script[src*="embed.js"][data-site]');
	if (!me || (old && old.lw)) return;
	const {site, consent, locale: forced} = me.dataset, KEY = "lw." + site, COOKIE = "lw_" + site;
	const api = new URL(me.src).origin + "/api/v1/sites/" + encodeURIComponent(site);
	const locale = forced || D.documentElement.lang || navigator.language || "en";
	const forms = [], events = [];
	let consented = consent != "required";
	let token = load(), line = Promise.resolve(), timer, warned, seq = 0;

	const noop = () => {};
	// never parse HTML
	const add = (parent, tag, cls, text, props) => parent.appendChild(Object.assign(D.createElement(tag),
		{className: cls || "", textContent: text || ""}, props));
	const attr = (e, name, value) => value ? e.setAttribute(name, value) : e.removeAttribute(name);
	const url = () => location.href.split("#")[0].slice(0, 2048); // fragments can hold secrets

	// Before consent only this tab's session keeps the token: the progress of a form the visitor started
	// (strictly necessary, ePrivacy art. 5(3)); nothing persistent is read or written.
	function tab(f) { try { return f(sessionStorage); } catch {} }
	function load(stored) {
		if (!consented && !stored) return tab(s => s.getItem(KEY)) || null;
		try {
			return localStorage.getItem(KEY);
		} catch {
			return (D.cookie.match(`(^|; )${COOKIE}=([^;]*)`) || [])[2] || null;
		}
	}
	const save = t => {
		token = t;
		if (!consented) return tab(s => s.setItem(KEY, t));
		try {
			localStorage.setItem(KEY, t);
		} catch {
			D.cookie = `${COOKIE}=${t}; Path=/; Max-Age=34560000; SameSite=Lax` +
				(location.protocol == "https:" ? "; Secure" : "");
		}
		tab(s => s.removeItem(KEY));
	};
	const wipe = () => {
		try { localStorage.removeItem(KEY); } catch {}
		tab(s => s.removeItem(KEY));
		D.cookie = COOKIE + "=; Path=/; Max-Age=0";
	};

	const post = async (path, body) => {
		// text/plain: no preflight
		const r = await fetch(api + path, {method: "POST", body: JSON.stringify(body), credentials: "omit", keepalive: true});
		const j = (await r.json().catch(noop)) || {};
		if (j.visitor) save(j.visitor);
		return {s: r.status, j};
	};
	// one visitor per page: tokenless requests queue
	const call = (path, body) => {
		const go = () => post(path, body(token));
		return line = token ? go() : line.then(go, go);
	};

	// page views, deferred: routers set the title after pushState
	let seen;
	const view = () => setTimeout(() => {
		const u = url(), r = D.referrer;
		if (u != seen) command("track", "page_view", {title: D.title.slice(0, 200),
			referrer: seen || r.startsWith(location.origin + "/") ? "" : r.slice(0, 1024)});
		seen = u;
	});
	const wrap = f => function () {
		view();
		return f.apply(this, arguments);
	};
	history.pushState = wrap(history.pushState);
	history.replaceState = wrap(history.replaceState);
	W.addEventListener("popstate", view);
	D.addEventListener("visibilitychange", () => D.hidden && flush());

	function flush() {
		timer = 0;
		if (consented && events.length) {
			const batch = events.splice(0);
			// 409: this visitor has not consented (or withdrew): forget the stored token, send no more
			call("/events", t => ({visitor: t, events: batch})).then(r => r.s == 409 && allow(false)).catch(noop);
		}
	}
	const commands = {
		// With the site's user_hash (an HMAC its back end made) the address is vouched for; without, it is
		// only a claim and has an answer's bot defences: a ticket, used after a person's typing time.
		identify: ({email, user_hash}) => (user_hash ? Promise.resolve() : call("/identify/ticket", t => ({visitor: t}))
			.then(r => new Promise(ok => setTimeout(ok, r.j.min_fill_ms + 50, r.j.ticket))))
			.then(ticket => call("/identify", t => ({visitor: t, email, user_hash, ticket, locale, page_url: url()})))
			.catch(noop),
		track(type, props) {
			const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), b => (b + 256).toString(16).slice(1)).join("");
			if (events.length < 100) events.push({id, type, at: new Date().toISOString(), url: url(), props: props || {}});
			if (consented) timer = timer || setTimeout(flush, 1e3);
		},
		// true/false: storage only (the host's consent manager keeps the proof). An object records the
		// consent per purpose with its words, {purposes: {behaviour_tracking: true, ...}, text, version}; the
		// server then says which visitor to keep: the remembered one, unless this page's has answered.
		consent(c) {
			if (c !== Object(c)) return allow(!!c, c && load(1));
			const purposes = c.purposes || {}, known = purposes.behaviour_tracking && load(1);
			let sent;
			call("/consent", t => (sent = t, {visitor: t, previous: known != t && known, purposes, text: c.text,
				version: c.version, locale, page_url: url()}))
				.then(r => r.s == 201 && allow(r.j.tracking, r.j.visitor, sent)).catch(noop);
		}
	};
	// was: the visitor the page had; when consent brings back another, the forms show its progress
	function allow(yes, known, was = token) {
		consented = yes;
		if (!yes) {
			wipe();
			events.length = 0;
		}
		if (known || token) save(known || token);
		if (token != was) forms.forEach(f => f());
		flush();
	}
	const command = (name, ...args) => { try { commands[name](...args); } catch {} };

	add(D.head, "link", 0, null, {rel: "stylesheet", href: new URL("embed.css", me.src).href});

	function mount(host) {
		const slug = host.dataset.leadwheelForm, cl = host.classList;
		const loc = host.dataset.locale || locale, path = "/forms/" + encodeURIComponent(slug);
		let T, data, shown, fields = [], form, status, go, busy;
		// more: the visitor asked for the next questions now, beyond this visit's quota
		const reload = (focus, more) => {
			host.style.minHeight = host.offsetHeight + "px";
			host.textContent = "";
			ask(focus, 0, more);
		};
		cl.add("lw-host", "lw-loading");
		forms.push(reload);
		ask();

		async function ask(focus, kept, more) {
			try {
				const r = await call(path + "/ask", t => ({visitor: t, locale: loc, page_url: url(), more}));
				if (r.s != 200) throw r.j.error;
				render(r.j, focus);
				if (kept && data.ticket) { // new ticket, same typed answers
					fields = fields.map(f => {
						const same = kept.find(k => k.q.key == f.q.key);
						if (same) f.box.replaceWith(same.box);
						return same || f;
					});
					submit(0, "ticket");
				}
			} catch (why) {
				if (kept) say(T.fail, 2); else drop(why);
			}
		}
		function drop(why) {
			host.textContent = host.style.minHeight = "";
			cl.remove("lw-loading");
			warned = warned || !console.warn("Leadwheel: no form", slug, why);
		}

		function render(j, focus) {
			const p = j.progress, stage = p.stages.find(s => s.key == p.stage), n = ++seq;
			let first;
			T = j.words; // the server sends the snippet's words in the visitor's language
			data = j;
			shown = Date.now();
			busy = 0;
			host.textContent = host.style.minHeight = "";
			cl.remove("lw-loading");
			// Set first: a control named "lang" would shadow it
			form = add(host, j.ticket ? "form" : "div", "lw-form", null, {lang: j.locale, noValidate: true, onsubmit: submit});
			if (j.ticket) {
				// in words and as a bar: the share of this visitor's questions that are behind them
				const id = `lw-${slug}-${n}`, done = p.stages.reduce((a, s) => [a[0] + s.known + s.declined, a[1] + s.total], [0, 0]);
				add(form, "p", "lw-progress", T.step.replace("{0}", p.step).replace("{1}", p.steps) + (stage ? ": " + stage.label : ""), {id});
				attr(add(form, "progress", "lw-bar", null, {max: done[1] || 1, value: done[0]}), "aria-labelledby", id);
				fields = j.questions.map(q => field(q, `${id}-${q.key}`));
				first = fields[0].ctrls[0];
				const trap = add(form, "div", "lw-hp", null, {hidden: true}); // honeypot
				attr(trap, "aria-hidden", "true");
				add(trap, "input", 0, null, {name: "hp", tabIndex: -1, autocomplete: "off"});
				go = add(form, "button", "lw-submit", T.send);
				status = add(form, "div", "lw-status");
				attr(status, "role", "status");
			} else {
				// the visit's questions are done (or none can be asked now); some sequences offer more on request
				first = add(form, "p", "lw-thanks", j.thank_you || T.thanks, {tabIndex: -1});
				if (j.more) add(form, "button", "lw-submit lw-more", T.more, {type: "button", onclick: () => reload(1, true)});
			}
			if (p.stages.some(s => s.known)) add(form, "button", "lw-forget", T.forget, {type: "button", onclick: () => {
				token = null;
				wipe();
				forms.forEach(r => r(r == reload));
			}});
			if (focus && first) first.focus();
		}

		const label = (parent, tag, q, htmlFor) => {
			const l = add(parent, tag, "lw-label", q.label, {htmlFor});
			if (q.required) {
				attr(add(l, "span", "lw-req", " *"), "aria-hidden", "true");
				add(l, "span", "lw-sr", " " + T.required);
			}
		};
		const choice = (parent, props, text) => {
			const row = add(parent, "div", "lw-choice"), c = add(row, "input", "lw-check", null, Object.assign({type: "checkbox"}, props));
			if (text) add(row, "label", "lw-opt", text, {htmlFor: c.id});
			return c;
		};
		function field(q, id) {
			const t = q.type, box = add(form, "div", "lw-field lw-field--" + t), f = {q, id, box, ctrls: []};
			const need = q.required && t != "multi-select", props = {id, name: q.key, required: need};
			let c, g;
			if (t == "radio" || t == "multi-select") {
				g = f.group = add(box, "fieldset", "lw-choices");
				label(g, "legend", q);
				q.options.forEach((o, i) => f.ctrls.push(choice(g,
					Object.assign(props, {type: t == "radio" ? t : "checkbox", id: id + "-" + i, value: o.value}), o.label)));
				if (need) attr(g, "role", "radiogroup");
			} else if (t == "checkbox" || t == "consent") {
				c = choice(box, props);
				label(c.parentNode, "label", q, id);
			} else {
				label(box, "label", q, id);
				c = add(box, t == "select" || t == "textarea" ? t : "input", "lw-input", null, props);
				if (t == "select") [{label: "—", value: ""}, ...q.options].forEach(o => c.add(new Option(o.label, o.value)));
				else if (t != "textarea") { // numbers as typed: the server reads "1 000"
					c.type = t == "email" || t == "tel" ? t : "text";
					if (t == "number") c.inputMode = "decimal";
				}
				if (q.validation.max_length) c.maxLength = q.validation.max_length;
			}
			if (c) f.ctrls.push(c);
			if (need) attr(g || c, "aria-required", "true");
			if (q.help) add(box, "p", "lw-help", q.help, {id: f.help = id + "-help"});
			// "Not now": a quiet toggle after the answer, never on a question that cannot be skipped or is required, nor on a
			// box whose unticked state already says no
			if (q.skippable && !q.required && t != "checkbox" && t != "consent") {
				const skip = f.skip = add(box, "button", "lw-skip", T.skip, {type: "button"});
				attr(skip, "aria-pressed", "false");
				skip.onclick = () => {
					f.off = !f.off;
					attr(skip, "aria-pressed", "" + f.off);
					(g ? [g] : f.ctrls).forEach(e => e.disabled = f.off);
				};
			}
			mark(f);
			return f;
		}
		const mark = (f, error) => {
			const id = error && f.id + "-error", old = f.box.querySelector(".lw-error");
			if (old) old.remove();
			if (error) f.box.insertBefore(add(f.box, "p", "lw-error", error, {id}), f.skip || null);
			f.ctrls.forEach(c => attr(c, "aria-invalid", error && "true"));
			(f.group ? [f.group] : f.ctrls).forEach(e => attr(e, "aria-describedby", [f.help, id].join(" ").trim()));
			return error;
		};

		const say = (text, bad) => {
			busy = 0;
			status.textContent = "";
			attr(add(status, "p", "lw-msg", text), "role", bad && "alert");
			if (bad > 1) add(status, "button", "lw-retry", T.retry, {type: "button", onclick: () => go.focus() || submit()});
		};
		function submit(ev, again) {
			if (ev) ev.preventDefault();
			if (busy) return;
			const values = new FormData(form), skipped = fields.filter(f => f.off).map(f => f.q.key), answers = {};
			fields.forEach(({q: {key, type}}) => {
				const v = values.getAll(key);
				if (skipped.includes(key)) return;
				if (type == "checkbox" || type == "consent") answers[key] = !!v[0];
				else if (type == "multi-select") v[0] && (answers[key] = v);
				else if (v[0] && v[0].trim()) answers[key] = v[0];
			});
			say(T.sending);
			busy = 1;
			// the server refuses answers sooner than min_fill_ms
			setTimeout(send, data.min_fill_ms - (Date.now() - shown),
				{ticket: data.ticket, answers, skipped, locale: loc, page_url: url(), hp: values.get("hp")}, again);
		}
		async function send(sub, again) {
			try {
				const r = await post(path + "/answers", sub).catch(noop), e = (r && r.j.error) || {}, code = e.code;
				let first;
				if (!r) return say(T.fail, 2);
				if (r.s == 201) {
					if (r.j.tracking && !consented) allow(true); // a ticked tracking consent question is consent
					return render(r.j, true);
				}
				// Each retried once; again says what was
				if (code == "too_fast" && again != code) return setTimeout(send, data.min_fill_ms, sub, code);
				if (/^ticket_/.test(code) && again != "ticket") return ask(false, fields);
				fields.forEach(f => mark(f, (e.fields || {})[f.q.key]) && (first = first || f.ctrls[0]));
				if (first) {
					say(T.check, 1);
					first.focus();
				} else {
					say(r.s == 429 || r.s > 499 || !e.message ? T.fail : e.message, 2);
				}
			} catch (err) {
				drop(err);
			}
		}
	}

	((old && old.q) || []).forEach(args => command(...args));
	W.leadwheel = Object.assign(command, {lw: 1});
	view();

	const start = () => D.querySelectorAll("[data-leadwheel-form]").forEach(host => {
		try { mount(host); } catch {}
	});
	D.readyState == "loading" ? D.addEventListener("DOMContentLoaded", start) : start();
})();
