"""The JavaScript run in the page's frames: finding controls (through open shadow roots),
describing and marking them, guarding navigation, measuring the page, scrolling."""

from __future__ import annotations

# Helpers shared by the page scripts: open shadow roots, labels, visibility, clickability.
_JS_PRELUDE = r"""
  const allRoots = (start) => {
    const out = [start];
    for (let i = 0; i < out.length; i++) {
      for (const el of out[i].querySelectorAll('*')) if (el.shadowRoot) out.push(el.shadowRoot);
    }
    return out;
  };
  const deepAll = (start, sel) => {
    const found = [];
    const roots = allRoots(start);
    if (start.shadowRoot) roots.push(...allRoots(start.shadowRoot));
    for (const root of roots) {
      try { found.push(...root.querySelectorAll(sel)); } catch (e) { /* invalid selector */ }
    }
    if (start.matches && start.matches(sel)) found.unshift(start);
    return found;
  };
  const up = (n) => n.parentElement ||
      (n.parentNode && n.parentNode instanceof ShadowRoot ? n.parentNode.host : null);
  const inShadow = (el) => el.getRootNode() instanceof ShadowRoot;
  const norm = (s) => (s || '').toLowerCase().replace(/[\u2019\u02bc]/g, "'")
      .replace(/\s+/g, ' ').replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  const raw = (s) => (s || '').toLowerCase().replace(/\s+/g, ' ').trim();
  const text = (el) => el.tagName === 'INPUT' ? el.value : (el.innerText || el.textContent);
  const visible = (el) => {
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const CLICKABLE_TAGS = new Set(['BUTTON', 'A', 'SUMMARY']);
  const CLICKABLE_ROLES = new Set(['button', 'link', 'tab', 'menuitem', 'switch']);
  const clickable = (el) => {
    if (CLICKABLE_TAGS.has(el.tagName)) return true;
    if (el.tagName === 'INPUT' && /^(button|submit)$/i.test(el.type)) return true;
    if (CLICKABLE_ROLES.has((el.getAttribute('role') || '').toLowerCase())) return true;
    if (el.hasAttribute('onclick') || el.hasAttribute('tabindex')) return true;
    return getComputedStyle(el).cursor === 'pointer';
  };
  const navigates = (el) => {
    if (el.tagName === 'A') {
      const href = (el.getAttribute('href') || '').trim();
      return !(href === '' || href.startsWith('#') || href.toLowerCase().startsWith('javascript:'));
    }
    const form = el.closest && el.closest('form');
    return Boolean(form) && (el.tagName === 'BUTTON' ? (el.type || 'submit') === 'submit'
                                                      : el.type === 'submit');
  };
  const describe = (el) => {
    const path = [];
    for (let node = el; node && path.length < 8; ) {
      let part = node.tagName.toLowerCase();
      if (node.id) { path.unshift(part + '#' + node.id); }
      else {
        const parent = node.parentElement;
        if (parent) {
          const same = [...parent.children].filter((c) => c.tagName === node.tagName);
          if (same.length > 1) part += ':nth-of-type(' + (same.indexOf(node) + 1) + ')';
        }
        path.unshift(part);
      }
      if (node.parentElement) { if (node.id) break; node = node.parentElement; continue; }
      const root = node.getRootNode();
      if (!(root instanceof ShadowRoot)) break;
      path.unshift('::shadow-root');
      node = root.host;
    }
    // Keep the innermost part after each shadow boundary readable: "host >> ::shadow-root > b".
    const label = (text(el) || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ');
    return {selector: path.join(' > ').replace(/ > ::shadow-root > /g, ' >> '),
            text: label.slice(0, 120), shadow_root: inShadow(el)};
  };
"""

# Elements whose label matches, in one frame: consent buttons (managers' own, then generic) and
# content controls (review tabs, "load more", expanders). Returns {els, meta}.
_FIND_JS = (
    r"""
(cfg) => {"""
    + _JS_PRELUDE
    + r"""
  const seen = (self[Symbol.for(cfg.seenKey)] ||= new WeakSet());
  const labelOf = (el) => norm(text(el)) || norm(el.getAttribute('aria-label') || '')
      || norm(el.getAttribute('title') || '');
  const rawLabelOf = (el) => raw(text(el)) || raw(el.getAttribute('aria-label') || '');
  const inFrame = self !== top;
  // Candidate targets: the clickable element around each short visible text, plus labelled ones.
  const targets = new Set();
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'svg']);
  for (const root of allRoots(document)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const value = node.nodeValue.trim();
      if (!value || value.length > 60) continue;
      const parent = node.parentElement || (node.parentNode && node.parentNode.host);
      if (!parent || SKIP.has(parent.tagName)) continue;
      let target = null;
      for (let el = parent, d = 0; el && d < 4 && el !== document.body; el = up(el), d++) {
        if (clickable(el)) { target = el; break; }
      }
      if (!target && /^(SPAN|DIV|P|LI|LABEL|B|STRONG|EM|SMALL)$/.test(parent.tagName)) {
        target = parent;
      }
      if (target) targets.add(target);
    }
    for (const el of root.querySelectorAll(
        '[aria-label], [title], input[type=button], input[type=submit]')) {
      if (clickable(el)) targets.add(el);
    }
  }
  const els = [], meta = [];
  const push = (el, info) => {
    if (seen.has(el) || el.disabled || !visible(el)) return;
    if (els.includes(el)) return;
    els.push(el); meta.push({...info, label: labelOf(el)});
  };
  const consentText = new RegExp(cfg.consentText, 'i');
  const consentContext = (el, containers) => {
    if (containers.some((c) => c === el || c.contains(el) ||
        (el.getRootNode() instanceof ShadowRoot && c.contains(el.getRootNode().host)))) return true;
    for (let node = el, d = 0; node && d < 14; node = up(node), d++) {
      const names = [node.id, typeof node.className === 'string' ? node.className : '',
                     node.getAttribute('aria-label') || ''].join(' ').toLowerCase();
      if (cfg.hints.some((h) => names.includes(h))) return true;
      const role = node.getAttribute('role');
      const words = (node.textContent || '').slice(0, 6000);
      if ((role === 'dialog' || role === 'alertdialog') && consentText.test(words)) return true;
      const position = getComputedStyle(node).position;
      if ((position === 'fixed' || position === 'sticky') && consentText.test(words)) return true;
    }
    if (inFrame) {
      const all = (document.body && document.body.innerText || '').slice(0, 4000);
      if (all.length < 4000 && consentText.test(all)) return true;
    }
    return false;
  };

  if (cfg.consent) {
    // 1. Known consent managers: their container, then their own buttons.
    const containers = [];
    for (const cmp of cfg.managers) {
      let boxes = [];
      for (const sel of cmp.containers) boxes.push(...deepAll(document, sel));
      const frameHit = inFrame && cmp.frame_hints.some((h) => location.href.includes(h));
      if (frameHit && document.body) boxes.push(document.body);
      boxes = boxes.filter((b) => b === document.body || visible(b) ||
          (b.shadowRoot && [...b.shadowRoot.querySelectorAll('*')].some(visible)));
      if (!boxes.length) continue;
      containers.push(...boxes);
      for (const choice of cfg.preference) {
        for (const sel of cmp[choice]) {
          for (const box of boxes) {
            for (const el of deepAll(box, sel)) push(el, {kind: 'consent', navigates: navigates(el), choice, cmp: cmp.name,
                                                          via: 'sélecteur ' + sel});
          }
        }
        for (const box of boxes) {
          for (const el of targets) {
            const label = labelOf(el);
            if (!cfg.phrases[choice].includes(label)) continue;
            if (!(box.contains(el) || (box.shadowRoot && box.shadowRoot.contains(el)) ||
                  (inShadow(el) && box.contains(el.getRootNode().host)))) continue;
            push(el, {kind: 'consent', navigates: navigates(el), choice, cmp: cmp.name, via: 'libellé'});
          }
        }
      }
    }
    // 2. Any button whose label is a consent phrase, inside something that looks like a banner.
    for (const choice of cfg.preference) {
      for (const el of targets) {
        if (!cfg.phrases[choice].includes(labelOf(el))) continue;
        if (!consentContext(el, containers)) continue;
        push(el, {kind: 'consent', navigates: navigates(el), choice, cmp: null, via: 'libellé'});
      }
    }
    return {els, meta};
  }

  const tabPatterns = cfg.tabPatterns.map((p) => new RegExp(p, 'u'));
  const expandPatterns = cfg.expandPatterns.map((p) => new RegExp(p, 'u'));
  for (const el of targets) {
    const label = labelOf(el);
    if (!label) continue;
    const rawLabel = rawLabelOf(el);
    const role = (el.getAttribute('role') || '').toLowerCase();
    if (cfg.more.includes(label)) {
      push(el, {kind: 'more', purpose: 'load-more', repeat: true, navigates: navigates(el)});
      continue;
    }
    if (navigates(el)) continue;
    if (el.getAttribute('aria-expanded') === 'true') continue;
    if (el.tagName === 'SUMMARY' && el.parentElement && el.parentElement.open) continue;
    if (cfg.expand.includes(label) || expandPatterns.some((p) => p.test(rawLabel))) {
      push(el, {kind: 'expand', purpose: 'expand', repeat: cfg.repeatable.includes(label)});
      continue;
    }
    if (tabPatterns.some((p) => p.test(label)) && clickable(el) &&
        el.getAttribute('aria-selected') !== 'true' && !/^H[1-6]$/.test(el.tagName)) {
      const tabLike = role === 'tab' || el.closest('[role=tablist]') || el.hasAttribute('aria-controls')
          || ['BUTTON', 'A', 'LI'].includes(el.tagName) || role === 'button' || el.hasAttribute('onclick');
      if (tabLike) push(el, {kind: 'tab', purpose: 'reviews-tab', repeat: false});
    }
  }
  return {els, meta};
}
"""
)

_DESCRIBE_JS = "(el) => {" + _JS_PRELUDE + "\n  return describe(el);\n}"

_MARK_SEEN_JS = "(el, seenKey) => { (self[Symbol.for(seenKey)] ||= new WeakSet()).add(el); }"

_STILL_MATCHES_JS = (
    "(el) => {"
    + _JS_PRELUDE
    + "\n  if (!el.isConnected || el.disabled || !visible(el)) return null;"
    + "\n  return norm(text(el)) || norm(el.getAttribute('aria-label') || '')"
    + " || norm(el.getAttribute('title') || '');\n}"
)

# Cancels the navigation of the next click on ``el`` unless the page's own script handled it.
_NAV_GUARD_JS = r"""
(el) => {
  const key = Symbol.for('egide.navguard');
  self[key] = 'none';
  const listener = (event) => {
    if (!event.composedPath().includes(el)) return;
    window.removeEventListener('click', listener);
    if (event.defaultPrevented) { self[key] = 'handled'; return; }
    event.preventDefault();
    self[key] = 'prevented';
  };
  window.addEventListener('click', listener);
  self[Symbol.for('egide.navguard.listener')] = listener;
}
"""
_NAV_GUARD_READ_JS = r"""
() => {
  const listener = self[Symbol.for('egide.navguard.listener')];
  if (listener) window.removeEventListener('click', listener);
  return self[Symbol.for('egide.navguard')] || 'none';
}
"""

# What "the page grew" means: elements (all open shadow roots included), text length, heights.
_SIGNATURE_JS = (
    r"""
() => {"""
    + _JS_PRELUDE
    + r"""
  let count = 0, chars = 0, shown = 0;
  for (const root of allRoots(document)) {
    count += root.querySelectorAll('*').length;
    chars += ((root === document ? document.documentElement : root).textContent || '').length;
    const top = root === document ? [document.body] : [...root.children];
    for (const el of top) if (el && el.innerText) shown += el.innerText.length;
  }
  const el = document.scrollingElement || document.documentElement;
  const busy = [...document.querySelectorAll('[aria-busy=true]')].some(visible);
  return {count, chars, shown, height: el ? el.scrollHeight : 0, busy};
}
"""
)

# Resolves on the next DOM change of the main document, or after ``ms``: the wait between looks.
_TICK_JS = r"""
(ms) => new Promise((resolve) => {
  const done = () => { observer.disconnect(); clearTimeout(timer); resolve(); };
  const observer = new MutationObserver(done);
  observer.observe(document, {subtree: true, childList: true, characterData: true,
                              attributes: true});
  const timer = setTimeout(done, ms);
})
"""

# One step down in every scrollable thing of the frame: the window, then each scrollable box,
# then the last element brought into view. Each step waits one frame so that
# IntersectionObserver callbacks run. Returns whether anything could still scroll.
_SCROLL_DOWN_JS = (
    r"""
async (maxSteps) => {"""
    + _JS_PRELUDE
    + r"""
  // After the next rendering update, when IntersectionObserver has looked at this position.
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const page = document.scrollingElement || document.documentElement;
  // The first pass starts at the top; later ones just above the highest content added since,
  // where a sentinel that moved below the viewport now sits.
  const key = Symbol.for('egide.scroll');
  let state = self[key];
  let start = 0;
  if (!state) {
    state = self[key] = {minTop: Infinity};
    new MutationObserver((records) => {
      let seen = 0;
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node.nodeType !== 1 || seen++ > 20) continue;
          state.minTop = Math.min(state.minTop, node.getBoundingClientRect().top + scrollY);
        }
      }
    }).observe(document, {subtree: true, childList: true});
  } else {
    start = Number.isFinite(state.minTop) ? Math.max(0, state.minTop - innerHeight) : scrollY;
    start = Math.min(start, scrollY);
  }
  state.minTop = Infinity;
  const y0 = scrollY;
  window.scrollTo(0, start);
  let steps = 0;
  while (steps < maxSteps && page && page.scrollTop + innerHeight < page.scrollHeight - 2) {
    window.scrollBy(0, Math.max(200, Math.floor(innerHeight * 0.9)));
    steps++;
    await frame();
  }
  const boxes = [];
  for (const root of allRoots(document)) {
    for (const el of root.querySelectorAll('*')) {
      if (el.scrollHeight <= el.clientHeight + 4 || el.clientHeight < 20) continue;
      const overflow = getComputedStyle(el).overflowY;
      if (overflow === 'auto' || overflow === 'scroll') boxes.push(el);
    }
  }
  for (const box of boxes) {
    let inner = 0;
    while (inner < maxSteps && box.scrollTop + box.clientHeight < box.scrollHeight - 2) {
      box.scrollTop += Math.max(100, Math.floor(box.clientHeight * 0.9));
      inner++; steps++;
      await frame();
    }
  }
  let last = document.body;
  while (last && last.lastElementChild) last = last.lastElementChild;
  if (last && last !== document.body && last.scrollIntoView) {
    last.scrollIntoView({block: 'end'});
    await frame();
  }
  return {steps, boxes: boxes.length, height: page ? page.scrollHeight : 0,
          moved: steps > 0 || scrollY !== y0 || Math.round(start) !== Math.round(y0)};
}
"""
)


_RUN_BEHAVIORS_JS = """
async (opts) => {
  const messages = [];
  self.__egide_bx_log = (entry) => {
    const data = entry && entry.data !== undefined ? entry.data : entry;
    const msg = typeof data === 'string' ? data : (data && data.msg) || JSON.stringify(data);
    const last = messages[messages.length - 1];
    if (last && last.msg === msg) { last.count += 1; return; }
    if (messages.length < 200) messages.push({at: new Date().toISOString(), msg, count: 1});
  };
  self.__bx_behaviors.init({...opts, log: '__egide_bx_log'});
  await self.__bx_behaviors.run();
  return messages;
}
"""

_SCROLL_STEP_JS = """
() => {
  const el = document.scrollingElement || document.documentElement;
  const before = el.scrollTop;
  window.scrollBy(0, Math.max(100, Math.floor(window.innerHeight * 0.8)));
  return {before, after: el.scrollTop, height: el.scrollHeight};
}
"""


_SHADOW_TEXT_JS = (
    r"""
() => {"""
    + _JS_PRELUDE
    + r"""
  const out = [];
  for (const root of allRoots(document).slice(1)) {
    const parts = [];
    for (const child of root.children) {
      if (child.tagName === 'STYLE' || child.tagName === 'SCRIPT') continue;
      const value = (child.innerText || '').trim();
      if (value) parts.push(value);
    }
    if (parts.length) out.push({host: describe(root.host).selector, text: parts.join('\n')});
  }
  return out;
}
"""
)
