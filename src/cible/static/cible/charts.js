// Draws the ECharts charts a page declares: <div data-chart="ID of a json_script block">.
// The JSON gives {kind, labels, values, name}; kinds: "bars" (horizontal bars, top to bottom).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const spec = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    const chart = echarts.init(element, null, { renderer: "svg" });
    const format = new Intl.NumberFormat(document.documentElement.lang);
    chart.setOption({
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => format.format(v) },
      xAxis: { type: "value", axisLabel: { formatter: (v) => format.format(v) } },
      yAxis: { type: "category", inverse: true, data: spec.labels },
      series: [{
        name: spec.name, type: "bar", data: spec.values, itemStyle: { color: "#0d6efd" },
        label: { show: true, position: "right", formatter: (p) => format.format(p.value) },
      }],
    });
    if (spec.links) {
      chart.on("click", (params) => { window.location.href = spec.links[params.dataIndex]; });
    }
    window.addEventListener("resize", () => chart.resize());
  });
});
