// Draws the ECharts charts a page declares: <div data-chart="ID of a json_script block">.
// The JSON gives {kind, labels, name, values} or, for lines, {kind, labels, series: [{name,
// values}]}; optional `suffix` (" %") after each number, `max` of the value axis, `links` (one
// URL per bar). Kinds: "bars" (horizontal bars, top to bottom), "lines" (one line per series),
// "heatmap" (see heatmapOptions).
// Bars may also give `colours` (one per bar), `reference` {name, value}: a vertical line across
// the bars (e.g. the overall rate), and `integer` (counts: no fractional ticks). Any kind may
// give `tooltips` (lines of text per data point, already localised) and `link_target` (a CSS
// selector): a click then loads the link into that element with HTMX instead of leaving the page.
const CHART_COLOURS = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997"];
const FLAG_COLOURS = { under: "#dc3545", over: "#198754" };
const FLAG_MARKS = { under: "▼ ", over: "▲ " };

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function tooltipLines(spec, index) {
  return (spec.tooltips[index] || []).map(escapeHtml).join("<br>");
}

// {kind: "heatmap", name, x_labels, y_labels, x_name, y_name, data: [[x, y, value or "-"]],
//  min, max, flags: [{x, y, kind: "under" | "over"}], scale: [colours, low to high]}:
// flagged cells get a thick border in the flag's colour and an arrow before their value.
function heatmapOptions(spec, text) {
  const flags = new Map((spec.flags || []).map((f) => [`${f.x},${f.y}`, f]));
  const valueText = (v) => (v === "-" || v === null || v === undefined ? "" : text(v));
  return {
    tooltip: {
      position: "top",
      formatter: (p) => (spec.tooltips ? tooltipLines(spec, p.dataIndex)
        : `${escapeHtml(spec.y_labels[p.value[1]])} × ${escapeHtml(spec.x_labels[p.value[0]])}: ${valueText(p.value[2])}`),
    },
    grid: { left: 8, right: 16, top: 28, bottom: 84, containLabel: true },
    xAxis: {
      type: "category", data: spec.x_labels, name: spec.x_name, nameLocation: "middle",
      nameGap: 30, nameTextStyle: { fontWeight: "bold" }, splitArea: { show: true },
      axisLabel: { interval: 0, hideOverlap: false },
    },
    yAxis: {
      type: "category", data: spec.y_labels, name: spec.y_name, nameLocation: "start",
      nameTextStyle: { fontWeight: "bold", align: "right" }, inverse: true,
      splitArea: { show: true },
    },
    visualMap: {
      min: spec.min, max: spec.max === spec.min ? spec.min + 1 : spec.max, calculable: true,
      orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
      inRange: { color: spec.scale || ["#e7f1ff", "#0d6efd"] }, formatter: (v) => text(v),
    },
    series: [{
      type: "heatmap", name: spec.name,
      data: spec.data.map((point) => {
        const flag = flags.get(`${point[0]},${point[1]}`);
        if (!flag) return point;
        return {
          value: point,
          itemStyle: { borderColor: FLAG_COLOURS[flag.kind], borderWidth: 4 },
          label: { fontWeight: "bold", color: FLAG_COLOURS[flag.kind] },
        };
      }),
      label: {
        show: true,
        formatter: (p) => {
          const flag = flags.get(`${p.value[0]},${p.value[1]}`);
          return (flag ? FLAG_MARKS[flag.kind] : "") + valueText(p.value[2]);
        },
      },
      emphasis: { itemStyle: { shadowBlur: 8, shadowColor: "rgba(0, 0, 0, 0.4)" } },
    }],
  };
}

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
  if (spec.kind === "heatmap") {
    return heatmapOptions(spec, text);
  }
  const bars = {
    name: spec.name, type: "bar", itemStyle: { color: CHART_COLOURS[0] },
    data: spec.colours
      ? spec.values.map((v, i) => ({ value: v, itemStyle: { color: spec.colours[i] || CHART_COLOURS[0] } }))
      : spec.values,
    label: { show: true, position: "right", formatter: (p) => text(p.value) },
  };
  if (spec.reference) {
    bars.markLine = {
      symbol: "none", silent: true, lineStyle: { color: "#212529", type: "dashed", width: 2 },
      label: { formatter: `${spec.reference.name}: ${text(spec.reference.value)}`, position: "start" },
      data: [{ xAxis: spec.reference.value }],
    };
  }
  return {
    grid: { left: 8, right: 48, top: spec.reference ? 28 : 8, bottom: 8, containLabel: true },
    tooltip: spec.tooltips
      ? { trigger: "item", formatter: (p) => tooltipLines(spec, p.dataIndex) }
      : { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: text },
    xAxis: {
      type: "value", max: spec.max, minInterval: spec.integer ? 1 : 0, axisLabel: { formatter: text },
    },
    yAxis: { type: "category", inverse: true, data: spec.labels },
    series: [bars],
  };
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const spec = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    const chart = echarts.init(element, null, { renderer: "svg" });
    const format = new Intl.NumberFormat(document.documentElement.lang);
    chart.setOption(chartOptions(spec, format));
    if (spec.links) {
      chart.on("click", (params) => {
        const link = params.componentType === "series" ? spec.links[params.dataIndex] : null;
        if (!link) return;
        if (spec.link_target && window.htmx) {
          htmx.ajax("GET", link, { target: spec.link_target, swap: "innerHTML" });
        } else {
          window.location.href = link;
        }
      });
    }
    window.addEventListener("resize", () => chart.resize());
  });
});
