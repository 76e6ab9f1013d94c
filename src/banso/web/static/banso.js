// banso: small behaviours for server-rendered pages (htmx does the requests).
(function () {
  "use strict";

  function configureHtmx() {
    if (!window.htmx) return;
    // Validation errors (422), conflicts (409), gone (410) and waits (429) come back as
    // partials to show in place; other errors become a message at the top of the page.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(409|410|422|429)", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
    htmx.config.includeIndicatorStyles = false;
    htmx.config.allowEval = false;
    htmx.config.allowScriptTags = false;
  }

  function flash(message, category) {
    var area = document.getElementById("flash-area");
    if (!area) return;
    var p = document.createElement("p");
    p.className = "flash flash-" + (category || "info");
    p.textContent = message;
    area.appendChild(p);
    setTimeout(function () { p.remove(); }, 8000);
  }

  var charts = new WeakMap();
  var lang = document.documentElement.lang || "ja";
  var numberFormat = new Intl.NumberFormat(lang === "ja" ? "ja-JP" : "en-US");
  var palette = ["#0b5cd5", "#e8833a", "#1a7f37", "#9f3ebf", "#c9252d", "#0f8b8d", "#8d6e00", "#52606d"];

  function drawCharts(root) {
    if (!window.Chart) return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (charts.has(canvas)) return;
      var spec;
      try { spec = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
      var stacked = !!spec.stacked;
      var datasets = (spec.datasets || []).map(function (d, i) {
        var colour = palette[i % palette.length];
        return {
          label: d.label, data: d.data, stepped: spec.step ? "after" : false,
          borderColor: colour, backgroundColor: spec.type === "bar" ? colour : colour + "22",
          fill: spec.type === "line" && (spec.datasets || []).length === 1,
          pointRadius: 0, borderWidth: 2, tension: 0,
        };
      });
      var chart = new Chart(canvas, {
        type: spec.type || "line",
        data: { labels: spec.labels || [], datasets: datasets },
        options: {
          responsive: true, maintainAspectRatio: true, animation: false,
          aspectRatio: Math.max(1.2, (canvas.width || 300) / (canvas.height || 150)),
          interaction: { mode: "index", intersect: false },
          plugins: {
            legend: { display: datasets.length > 1 },
            tooltip: { callbacks: { label: function (c) {
              return (c.dataset.label ? c.dataset.label + ": " : "") + numberFormat.format(c.parsed.y);
            } } },
          },
          scales: {
            x: { stacked: stacked, ticks: { maxTicksLimit: 12, autoSkip: true } },
            y: { stacked: stacked, beginAtZero: true, ticks: { callback: function (v) { return numberFormat.format(v); } } },
          },
        },
      });
      charts.set(canvas, chart);
    });
  }

  function autoSubmit(root) {
    (root || document).querySelectorAll("select.auto-submit").forEach(function (select) {
      if (select.dataset.bound) return;
      select.dataset.bound = "1";
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function confirmForms(root) {
    (root || document).querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function enhance(root) {
    drawCharts(root);
    autoSubmit(root);
    confirmForms(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    configureHtmx();
    enhance(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
  document.addEventListener("banso:flash", function (event) {
    var list = (event.detail && event.detail.value) || event.detail || [];
    if (!Array.isArray(list)) list = [list];
    list.forEach(function (m) { if (m && m.message) flash(m.message, m.category); });
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = lang === "ja" ? "エラーが発生しました (" + xhr.status + ")" : "Something went wrong (" + xhr.status + ")";
    if (xhr.status === 403) text = lang === "ja" ? "この操作は許可されていません。" : "You may not do this.";
    if (xhr.status === 404) text = lang === "ja" ? "見つかりません。" : "Not found.";
    flash(text, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    flash(lang === "ja" ? "サーバーに接続できません。" : "banso cannot be reached.", "error");
  });
})();
