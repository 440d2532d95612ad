// Draws the ECharts charts a page declares: <div data-chart="ID of a json_script block">.
// The JSON gives {kind, labels, name, values} or, for lines, {kind, labels, series: [{name,
// values}]}; optional `suffix` (" %") after each number, `max` of the value axis, `links` (one
// URL per bar). Kinds: "bars" (horizontal bars, top to bottom), "lines" (one line per series).
const CHART_COLOURS = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997"];

function chartOptions(spec, format) {
  const text = (v) => (v === null || v === undefined ? "–" : format.format(v) + (spec.suffix || ""));
  if (spec.kind === "lines") {
    return {
      color: CHART_COLOURS,
      grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: text },
      xAxis: { type: "category", boundaryGap: false, data: spec.labels },
      yAxis: { type: "value", max: spec.max, axisLabel: { formatter: text } },
      series: spec.series.map((s) => ({
        name: s.name, type: "line", data: s.values, connectNulls: true, showSymbol: true,
      })),
    };
  }
  return {
    grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: text },
    xAxis: { type: "value", max: spec.max, axisLabel: { formatter: text } },
    yAxis: { type: "category", inverse: true, data: spec.labels },
    series: [{
      name: spec.name, type: "bar", data: spec.values, itemStyle: { color: CHART_COLOURS[0] },
      label: { show: true, position: "right", formatter: (p) => text(p.value) },
    }],
  };
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const spec = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    const chart = echarts.init(element, null, { renderer: "svg" });
    const format = new Intl.NumberFormat(document.documentElement.lang);
    chart.setOption(chartOptions(spec, format));
    if (spec.links) {
      chart.on("click", (params) => { window.location.href = spec.links[params.dataIndex]; });
    }
    window.addEventListener("resize", () => chart.resize());
  });
});
