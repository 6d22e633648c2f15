/*
 * Sanlian page behaviour. CSP forbids inline scripts, so everything lives here.
 * Load after vendor/htmx/htmx.min.js and vendor/echarts/echarts.min.js
 * (all three with `defer`, in that order).
 *
 *  - [data-chart="ID"]      ECharts chart; option JSON in <script type="application/json" id="ID">
 *  - <meta name="csrf-token" content="...">  sent as X-CSRFToken on htmx non-GET requests
 *  - [data-confirm="text"]  on a form, button or link: ask before submitting / following
 *  - [data-autosubmit]      on a form control (or its form): submit the form on change
 */
(function () {
  'use strict';

  /* ---------- htmx under a strict CSP ---------- */

  if (window.htmx) {
    // htmx would inject a <style> element (blocked by style-src 'self'); app.css has the rules.
    window.htmx.config.includeIndicatorStyles = false;
    // No eval: hx-on:*, hx-vals="js:...", and [condition] trigger filters are not used.
    window.htmx.config.allowEval = false;
    // Keep allowScriptTags at its default: `false` would also strip the
    // <script type="application/json"> chart data from swapped partials.
  }

  /* ---------- Charts ---------- */

  const PALETTE = ['#3b5b7a', '#b71c1c', '#c8962e', '#5b8c5a', '#7a6a9a', '#4a90a4', '#8d6e63', '#9aa1a9'];
  const charts = new Set();      // live ECharts instances
  const ready = new WeakSet();   // elements we initialised
  const resizeObserver = window.ResizeObserver
    ? new ResizeObserver(function (entries) {
      entries.forEach(function (entry) {
        const chart = window.echarts && window.echarts.getInstanceByDom(entry.target);
        if (chart) chart.resize();
      });
    })
    : null;

  function copyExtra(spec, out) {
    Object.keys(spec).forEach(function (k) {
      if (['_kind', 'categories', 'series', 'horizontal', 'stack', 'donut'].indexOf(k) < 0) out[k] = spec[k];
    });
    return out;
  }

  function normSeries(series) {
    // Accept [1, 2, 3] (one unnamed series) or [{name, data}, ...].
    if (!Array.isArray(series)) return [];
    if (series.length && typeof series[0] !== 'object') return [{ name: '', data: series }];
    return series;
  }

  // Expand the {"_kind": "bar"|"line"|"pie", categories, series} shorthand into an ECharts option.
  function expand(spec) {
    const kind = spec && spec._kind;
    if (!kind) return spec;
    const series = normSeries(spec.series);
    const cats = spec.categories || [];
    let opt;
    if (kind === 'pie') {
      const values = series.length ? series[0].data : [];
      opt = {
        tooltip: { trigger: 'item' },
        legend: { bottom: 0, type: 'scroll' },
        series: [{
          type: 'pie',
          name: series.length ? series[0].name : '',
          radius: spec.donut === false ? '65%' : ['40%', '65%'],
          center: ['50%', '45%'],
          data: cats.map(function (c, i) { return { name: c, value: values[i] }; }),
        }],
      };
    } else {
      const catAxis = { type: 'category', data: cats };
      const valAxis = { type: 'value' };
      opt = {
        tooltip: { trigger: 'axis' },
        grid: { left: 12, right: 16, top: series.length > 1 ? 36 : 16, bottom: 8 }, // ECharts 6 keeps axis labels inside (outerBounds)
        xAxis: spec.horizontal ? valAxis : catAxis,
        yAxis: spec.horizontal ? catAxis : valAxis,
        series: series.map(function (s) {
          const out = { type: kind, name: s.name, data: s.data };
          if (spec.stack) out.stack = 'total';
          if (kind === 'line') out.smooth = false;
          return out;
        }),
      };
      if (series.length > 1) opt.legend = { top: 0, type: 'scroll' };
    }
    opt.color = PALETTE;
    return copyExtra(spec, opt);
  }

  // ECharts' default HTML tooltip uses inline style="" markup, which the CSP blocks;
  // richText tooltips are drawn by the chart renderer itself.
  function cspTooltips(option) {
    const tips = Array.isArray(option.tooltip) ? option.tooltip : option.tooltip ? [option.tooltip] : [];
    tips.forEach(function (t) {
      if (t && typeof t === 'object' && !t.renderMode) t.renderMode = 'richText';
    });
    return option;
  }

  function pruneCharts() {
    charts.forEach(function (chart) {
      const dom = chart.getDom();
      if (!dom || !dom.isConnected) {
        if (resizeObserver && dom) resizeObserver.unobserve(dom);
        chart.dispose();
        charts.delete(chart);
      }
    });
  }

  function initCharts() {
    pruneCharts();
    if (!window.echarts) return;
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      if (ready.has(el)) return;
      const src = document.getElementById(el.getAttribute('data-chart'));
      if (!src) return;
      let option;
      try {
        option = cspTooltips(expand(JSON.parse(src.textContent)));
      } catch (err) {
        console.error('sanlian: bad chart JSON in #' + src.id, err);
        return;
      }
      // Elements restored from htmx's history cache carry stale ECharts markup.
      el.removeAttribute('_echarts_instance_');
      el.textContent = '';
      const chart = window.echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(option);
      ready.add(el);
      charts.add(chart);
      if (resizeObserver) resizeObserver.observe(el);
    });
  }

  function resizeAll() {
    charts.forEach(function (chart) { chart.resize(); });
  }

  if (!resizeObserver) {
    let timer = 0;
    window.addEventListener('resize', function () {
      clearTimeout(timer);
      timer = setTimeout(resizeAll, 150);
    });
  }
  window.addEventListener('beforeprint', resizeAll);
  window.addEventListener('afterprint', resizeAll);

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', initCharts);
  else initCharts();
  document.addEventListener('htmx:afterSwap', initCharts);
  document.addEventListener('htmx:historyRestore', initCharts);
  // Keep chart SVG (with its CSSOM styles) out of htmx's history snapshot;
  // htmx:afterSwap re-creates any charts that stay on the page.
  document.addEventListener('htmx:beforeHistorySave', function () {
    charts.forEach(function (chart) {
      const dom = chart.getDom();
      if (resizeObserver && dom) resizeObserver.unobserve(dom);
      chart.dispose();
      if (dom) ready.delete(dom);
    });
    charts.clear();
  });

  /* ---------- CSRF for htmx ---------- */

  document.addEventListener('htmx:configRequest', function (evt) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content && evt.detail.verb !== 'get') {
      evt.detail.headers['X-CSRFToken'] = meta.content;
    }
  });

  /* ---------- Confirmation ---------- */

  // Capture phase on document runs before htmx's own listeners on the element.
  function veto(evt) {
    evt.preventDefault();
    evt.stopImmediatePropagation();
  }

  document.addEventListener('click', function (evt) {
    const el = evt.target.closest && evt.target.closest('[data-confirm]');
    if (!el || el.tagName === 'FORM') return;
    if (!window.confirm(el.getAttribute('data-confirm'))) veto(evt);
  }, true);

  document.addEventListener('submit', function (evt) {
    const form = evt.target;
    const text = form.getAttribute && form.getAttribute('data-confirm');
    if (text && !window.confirm(text)) veto(evt);
  }, true);

  /* ---------- Auto-submit filters ---------- */

  document.addEventListener('change', function (evt) {
    const ctl = evt.target;
    if (!ctl.form || !ctl.closest('[data-autosubmit]')) return;
    if (ctl.form.requestSubmit) ctl.form.requestSubmit();
    else ctl.form.submit();
  });
})();
