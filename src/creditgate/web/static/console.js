// Copy buttons: a button with data-copy="id" copies that readonly input's value.
document.addEventListener("click", (event) => {
  const id = event.target instanceof HTMLElement ? event.target.dataset.copy : undefined;
  if (!id) return;
  const input = document.getElementById(id);
  input.select();
  navigator.clipboard?.writeText(input.value);
});
