// Shared helpers of the test site: fetch reviews or a marker from the (slow) server.
window.site = {
  id: document.documentElement.dataset.page ||
      new URLSearchParams(location.search).get('id'),
  async reviews(page, delay, n) {
    const url = `/api/reviews?id=${this.id}&page=${page}&delay=${delay || 0}&n=${n || 4}`;
    return (await fetch(url)).json();
  },
  async marker(delay) {
    return (await (await fetch(`/api/marker?id=${this.id}&delay=${delay || 0}`)).json()).text;
  },
  render(container, items, tag) {
    for (const text of items) {
      const el = document.createElement(tag || 'article');
      el.className = 'review';
      el.textContent = text;
      container.appendChild(el);
    }
  },
  later(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); },
};
