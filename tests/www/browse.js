/*
 * browse.js: the web page in a real browser, for tests/integ/t_www.sh.
 * Debian's headless Chromium (CHROMIUM) driven by playwright-core, with
 * axe-core for accessibility; both pinned in package-lock.json.  wkdd
 * listens on 127.0.0.1:PORT; the test's names are mapped there by the
 * browser's resolver, and the test CA is not the browser's, so
 * certificate errors are ignored (the curl checks verify it).
 *
 * Prints one line per check, "PASS name" or "FAIL name", and "# ..."
 * comments; t_www.sh turns them into TAP.  Every request the pages make
 * is listed: one that leaves the page's origin is aborted and fails.
 *
 *	node browse.js   (environment: PORT, OUT, CHROMIUM, FA, FB)
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"),
    "utf8");

const PORT = process.env.PORT;
const OUT = process.env.OUT;
const FA = process.env.FA || "";
const FB = process.env.FB || "";
const GOOD = `https://openpgpkey.good.test:${PORT}`;
const APEX = `https://good.test:${PORT}`;
const BROKEN = `https://openpgpkey.broken.test:${PORT}`;
const ORIGINS = [GOOD, APEX, BROKEN];

let failed = 0;
const foreign = [];
const seen = [];
const cspErrors = [];

function result(good, name, detail) {
	console.log(`${good ? "PASS" : "FAIL"} ${name}`);
	if (!good) {
		failed++;
		if (detail)
			for (const l of String(detail).split("\n"))
				console.log(`# ${l}`);
	}
}

function grouped(fpr) {
	return fpr.replace(/(.{4})(?=.)/g, "$1 ");
}

async function shot(page, name) {
	const file = path.join(OUT, name);

	await page.screenshot({ path: file, fullPage: true });
	console.log(`# screenshot ${file}`);
}

/* axe-core on the page as it is: no serious or critical violation. */
async function axe(page, name) {
	await page.evaluate(axeSource);
	const r = await page.evaluate(async () => {
		/* global axe */
		const res = await axe.run(document, {
			runOnly: { type: "tag", values: ["wcag2a", "wcag2aa",
			    "wcag21a", "wcag21aa", "best-practice"] }
		});
		return res.violations.map((v) => ({ id: v.id,
		    impact: v.impact, nodes: v.nodes.length,
		    target: v.nodes[0] && v.nodes[0].target.join(" ") }));
	});
	const bad = r.filter((v) => v.impact === "serious" ||
	    v.impact === "critical");
	for (const v of r)
		console.log(`# axe ${name}: ${v.impact} ${v.id} ` +
		    `(${v.nodes}, e.g. ${v.target})`);
	result(bad.length === 0, `axe-core: no serious or critical violation ` +
	    `(${name})`, bad.map((v) => `${v.impact} ${v.id}`).join("\n"));
}

async function newContext(browser, opts) {
	const ctx = await browser.newContext(Object.assign({
		ignoreHTTPSErrors: true,
		viewport: { width: 1280, height: 900 },
		reducedMotion: "reduce"
	}, opts || {}));

	await ctx.route("**/*", (route) => {
		const u = route.request().url();

		seen.push(u);
		if (ORIGINS.some((o) => u === o || u.startsWith(o + "/")))
			return route.continue();
		foreign.push(u);
		return route.abort();
	});
	return ctx;
}

function watch(page) {
	page.on("console", (m) => {
		if (/Content.Security.Policy|Refused to/i.test(m.text()))
			cspErrors.push(m.text());
	});
	page.on("pageerror", (e) => cspErrors.push("page error: " + e));
}

/* A lookup through the form, drawn by app.js from /lookup.json. */
async function lookupJs(page, addr) {
	await page.fill("#addr", addr);
	await Promise.all([
		page.waitForResponse((r) => r.url().includes("/lookup.json?")),
		page.click("#lookup-form button[type=submit]")
	]);
	await page.waitForFunction(() => document.getElementById("result")
	    .getAttribute("aria-busy") === null, null, { timeout: 10000 });
}

async function main() {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: [
			"--no-sandbox",
			"--disable-background-networking",
			"--disable-component-update",
			"--host-resolver-rules=MAP good.test 127.0.0.1, " +
			    "MAP openpgpkey.good.test 127.0.0.1, " +
			    "MAP openpgpkey.broken.test 127.0.0.1"
		]
	});
	console.log(`# ${browser.version()}`);

	/* With JavaScript: the lookup drawn from /lookup.json. */
	let ctx = await newContext(browser);
	let page = await ctx.newPage();
	watch(page);
	await page.goto(GOOD + "/");
	result(await page.title() === "OpenPGP keys for good.test",
	    "the page at / names the domain");
	await page.keyboard.press("Tab");
	result(await page.evaluate(() =>
	    document.activeElement.classList.contains("skip")),
	    "keyboard: the first Tab reaches the skip link");
	await page.focus("#addr");
	result(await page.evaluate(() =>
	    getComputedStyle(document.activeElement).outlineStyle !==
	    "none"), "keyboard: a focused field is outlined");

	await lookupJs(page, "alice@good.test");
	let key = page.locator("#result article.key");
	result(await key.count() === 1 && /valid/.test(await
	    key.getAttribute("class")), "JS: alice's key shown, valid");
	const text = await key.innerText();
	result(text.includes(grouped(FA)), "JS: alice's fingerprint shown",
	    text);
	result(text.includes("Alice <alice@good.test>"),
	    "JS: the one User ID served");
	result(/EdDSA, 255 bits/.test(text) && /ECDH, 255 bits/.test(text) &&
	    /encrypt/.test(text), "JS: algorithm, size, the subkey's purpose");
	result(new URL(page.url()).pathname === "/lookup" &&
	    new URL(page.url()).searchParams.get("addr") === "alice@good.test",
	    "JS: the address bar says /lookup?addr=", page.url());
	const links = await key.locator(".downloads a").evaluateAll((as) =>
	    as.map((a) => a.getAttribute("href")));
	result(links.length === 2 && /^\/.well-known\/openpgpkey\/good.test\/hu\//
	    .test(links[0]) && /^\/lookup.asc\?addr=/.test(links[1]),
	    "JS: download links (WKD URL, .asc)", links.join("\n"));
	const asc = await page.evaluate(async (u) =>
	    (await fetch(u)).text(), links[1]);
	result(asc.startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
	    "JS: the .asc link serves armor");
	await shot(page, "lookup-desktop.png");
	await axe(page, "lookup result, desktop");

	await lookupJs(page, "bob@good.test");
	key = page.locator("#result article.key");
	const btext = await key.innerText();
	result(/revoked/.test(await key.getAttribute("class")) &&
	    /Revoked \(retired\): Left the project/.test(btext) &&
	    btext.includes(grouped(FB)),
	    "JS: bob's key shown revoked, with reason", btext);
	await shot(page, "revoked-desktop.png");

	await lookupJs(page, "carol@good.test");
	const miss = page.locator("#result .notice.miss");
	result(await miss.count() === 1 && /No key published/.test(await
	    miss.innerText()), "JS: carol: no key published");
	await axe(page, "no key published");

	await lookupJs(page, "dave@elsewhere.test");
	result(/own domain/.test(await page.locator("#result .notice.error")
	    .innerText()), "JS: another domain's address refused");

	/* Phone width. */
	await page.setViewportSize({ width: 390, height: 844 });
	await lookupJs(page, "alice@good.test");
	result(await page.evaluate(() =>
	    document.documentElement.scrollWidth <= window.innerWidth),
	    "phone (390 px): nothing wider than the screen");
	await shot(page, "lookup-phone.png");
	await axe(page, "lookup result, phone");
	await ctx.close();

	/* Without JavaScript: the form answered by the server. */
	ctx = await newContext(browser, { javaScriptEnabled: false });
	page = await ctx.newPage();
	watch(page);
	await page.goto(APEX + "/");
	await page.fill("#addr", "alice@good.test");
	await Promise.all([page.waitForNavigation(),
	    page.press("#addr", "Enter")]);
	key = page.locator("#result article.key");
	result(await key.count() === 1 && (await key.innerText())
	    .includes(grouped(FA)), "no JS: the server's page has alice's key");
	result(await page.inputValue("#addr") === "alice@good.test",
	    "no JS: the address stays in the field");
	await shot(page, "nojs-desktop.png");
	await page.goto(APEX + "/lookup?addr=carol%40good.test");
	result(/No key published/.test(await page.locator("#result")
	    .innerText()), "no JS: carol: no key published");
	await ctx.close();
	/*
	 * axe-core runs as a script: on the same server-drawn page in a
	 * context with JavaScript (app.js changes nothing until a submit).
	 */
	ctx = await newContext(browser);
	page = await ctx.newPage();
	watch(page);
	await page.goto(APEX + "/lookup?addr=alice%40good.test");
	await axe(page, "server-drawn lookup");
	await ctx.close();

	/* The domain status pages. */
	for (const [base, name, want] of [[GOOD, "good", "ok|warn"],
	    [BROKEN, "broken", "fail"]]) {
		for (const [w, h, tag] of [[1280, 900, "desktop"],
		    [390, 844, "phone"]]) {
			ctx = await newContext(browser, {
			    viewport: { width: w, height: h } });
			page = await ctx.newPage();
			watch(page);
			const resp = await page.goto(base + "/status");
			result(resp.status() === 200, `status ${name} ` +
			    `(${tag}): 200`);
			const summary = page.locator(".summary");
			result(await summary.count() === 1 &&
			    new RegExp(`summary (${want})`).test(await
			    summary.getAttribute("class")),
			    `status ${name} (${tag}): summary says ${want}`,
			    await page.locator("main").innerText());
			if (want === "fail" && tag === "desktop")
				result(await page.locator(".fix").count() > 0,
				    `status ${name}: each failure has its fix`);
			if (tag === "phone")
				result(await page.evaluate(() =>
				    document.documentElement.scrollWidth <=
				    window.innerWidth),
				    `status ${name} (phone): fits the screen`);
			await shot(page, `status-${name}-${tag}.png`);
			if (tag === "desktop")
				await axe(page, `status ${name}`);
			await ctx.close();
		}
	}
	await browser.close();

	console.log(`# ${seen.length} requests, all listed:`);
	for (const u of seen)
		console.log(`#   ${u}`);
	result(foreign.length === 0, "no request left the page's origin",
	    foreign.join("\n"));
	result(cspErrors.length === 0, "no CSP violation, no script error",
	    cspErrors.join("\n"));
	return failed;
}

main().then((n) => process.exit(n === 0 ? 0 : 1), (e) => {
	console.log(`FAIL browser run: ${e.message}`);
	for (const l of String(e.stack).split("\n"))
		console.log(`# ${l}`);
	process.exit(1);
});
