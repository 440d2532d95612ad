"""Targets: saved searches over organisations or contacts (SPEC C3, seed 002).

For pages and other apps:
- `definition.parse(data, level=…, allow_empty=…)` / `definition.build(segment_ids=…,
  organisation=…, contact=…)` check a definition (DefinitionInvalid names each problem by path);
  `definition.describe(…)` says it in words;
- `selectors.target_list / target_get / may_change` — which targets a viewer sees and changes;
- `selectors.target_count(viewer=…, definition=… | target=…, timeout_ms=…)` — the live count,
  `None` with a message when too slow; `target_queryset`, `target_members`, `target_export`;
- `selectors.target_resolve(target=…, viewer=None)` — for campaigns, nurture, routing, reports;
- `services.target_create / target_update / target_delete / target_duplicate`.
"""
