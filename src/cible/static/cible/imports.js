// The import report's chart: one stacked bar of created / updated / unchanged / rejected rows.
// Drawn on page load and again when HTMX swaps the report in at the end of a run (htmx.onLoad).
(() => {
  function draw(element) {
    if (element.dataset.drawn || typeof echarts === "undefined") return;
    const source = document.getElementById(element.dataset.importChart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    const format = new Intl.NumberFormat(document.documentElement.lang);
    const chart = echarts.init(element, null, { renderer: "svg" });
    element.dataset.drawn = "1";
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 8, top: 8, bottom: 40, containLabel: true },
      legend: { bottom: 0, itemWidth: 12, itemHeight: 12 },
      tooltip: { trigger: "item", valueFormatter: (v) => format.format(v) },
      xAxis: { type: "value", show: false },
      yAxis: { type: "category", show: false, data: [""] },
      series: spec.series.map((s) => ({
        name: s.name,
        type: "bar",
        stack: "rows",
        barWidth: 28,
        data: [s.value],
        itemStyle: { color: s.color },
        label: { show: s.value > 0, formatter: (p) => format.format(p.value), color: "#fff" },
      })),
    });
    window.addEventListener("resize", () => chart.resize());
  }

  function drawAll(root) {
    root.querySelectorAll("[data-import-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => {
    drawAll(document);
    if (window.htmx) window.htmx.onLoad((root) => drawAll(root));
  });
})();
