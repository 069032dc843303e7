// Drag across the attention chart's bars to narrow the search to those dates. Without this
// script each bar is still a link narrowing the search to its own period.
document.querySelectorAll("svg.coverage").forEach((svg) => {
  let first = null;
  const column = (event) => event.target.closest && event.target.closest("a.col");
  svg.addEventListener("pointerdown", (event) => {
    first = column(event);
    if (first) { first.classList.add("picked"); event.preventDefault(); }
  });
  svg.addEventListener("pointerup", (event) => {
    const last = column(event);
    if (!first || !last || last === first) { if (first) first.classList.remove("picked"); first = null; return; }
    const days = [first.dataset.since, first.dataset.until, last.dataset.since, last.dataset.until].sort();
    const url = new URL(first.getAttribute("href"), location.href);
    url.searchParams.set("since", days[0]);
    url.searchParams.set("until", days[3]);
    first = null;
    event.preventDefault();
    location.assign(url.toString());
  });
});
