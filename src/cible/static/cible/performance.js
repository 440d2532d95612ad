// The choices form of the performance pages: a changed select submits it, except the period
// "custom", which first shows its two dates.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("choices");
  if (!form) return;
  const period = form.querySelector("[name=period]");
  form.querySelectorAll("select").forEach((select) => select.addEventListener("change", () => {
    const custom = period.value === "custom";
    form.querySelectorAll(".custom-dates").forEach((box) => box.classList.toggle("d-none", !custom));
    if (!custom || select !== period) form.requestSubmit();
  }));
});
