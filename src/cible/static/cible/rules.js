// The rule builder (segments/_rule_builder.html, cible.segments.axes.builder): the rule travels as
// JSON in the builder's hidden input; this keeps that JSON in step with the visible controls.
// Everything structural (add, remove, a new field or operator) is redrawn by the server (HTMX).
(() => {
  const children = (group) => {
    const box = group.querySelector(":scope > .rule-children");
    return box ? [...box.children].filter((child) => child.dataset.node) : [];
  };

  const readCondition = (element) => {
    const field = element.querySelector("[data-part=field]");
    const op = element.querySelector("[data-part=op]");
    const data = { field: field ? field.value : "", op: op ? op.value : "" };
    const inputs = [...element.querySelectorAll("[data-part=value]")];
    if (inputs.length === 0) return data;
    const first = inputs[0];
    if (first.type === "checkbox") {
      data.value = inputs.filter((input) => input.checked).map((input) => input.value);
    } else if (first.multiple) {
      data.value = [...first.selectedOptions].map((option) => option.value);
    } else if (first.dataset.split === "comma") {
      data.value = first.value.split(",").map((part) => part.trim()).filter((part) => part);
    } else if (inputs.length > 1) {
      data.value = inputs.map((input) => input.value);
    } else {
      data.value = first.value;
    }
    return data;
  };

  const readGroup = (element) => {
    const match = element.querySelector(":scope > .rule-group-head [data-part=match]");
    return {
      match: match ? match.value : "all",
      conditions: children(element).map((child) =>
        child.dataset.node === "group" ? readGroup(child) : readCondition(child)),
    };
  };

  // Under a long multiple select, what is chosen stays in sight however it is scrolled.
  const showChosen = (select) => {
    const box = select.parentElement.querySelector(".rule-chosen");
    if (!box) return;
    box.replaceChildren(...[...select.selectedOptions].map((option) => {
      const badge = document.createElement("span");
      badge.className = "badge text-bg-secondary me-1";
      badge.textContent = option.textContent;
      return badge;
    }));
  };

  const write = (builder) => {
    const root = builder.querySelector(":scope > [data-node=group]");
    const input = builder.querySelector(":scope > input.rule-json");
    if (root && input) input.value = JSON.stringify(readGroup(root));
  };

  // Capture: the JSON is current before any HTMX request (the builder's or a live count) reads it.
  for (const type of ["input", "change", "submit"]) {
    document.addEventListener(type, (event) => {
      if (type === "submit") {
        event.target.querySelectorAll(".rule-builder").forEach(write);
        return;
      }
      const builder = event.target.closest && event.target.closest(".rule-builder");
      if (!builder) return;
      if (event.target.multiple) showChosen(event.target);
      write(builder);
    }, true);
  }

  // A redrawn builder tells its form the rule changed (a live count then follows).
  document.addEventListener("htmx:afterSettle", (event) => {
    const element = event.target;
    if (element.classList && element.classList.contains("rule-builder")) {
      element.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
