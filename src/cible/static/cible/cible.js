// Small behaviours the server-rendered pages need; everything else is HTMX.
document.addEventListener("click", (event) => {
  const option = event.target.closest(".lookup-option");
  if (option) {
    const id = option.dataset.target;
    document.getElementById(id).value = option.dataset.value;
    const search = document.getElementById(id + "_search");
    search.value = option.dataset.label;
    document.getElementById(id + "_options").innerHTML = "";
    return;
  }
  const popup = document.getElementById("search-popup");
  if (popup && !event.target.closest("#search-popup") && event.target.id !== "global-search") {
    popup.innerHTML = "";
  }
});
