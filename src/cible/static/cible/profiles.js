// The profile editor: a criterion row's "Remove" button takes the row out of the form.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-remove-criterion]");
  if (button) button.closest(".criterion").remove();
});
