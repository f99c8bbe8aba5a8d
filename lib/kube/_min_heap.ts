/** A binary min-heap ordered by a numeric priority. */
export class MinHeap<V> {
  #items: { at: number; value: V }[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(at: number, value: V): void {
    const items = this.#items;
    items.push({ at, value });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].at <= items[i].at) break;
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  peek(): { at: number; value: V } | undefined {
    return this.#items[0];
  }

  pop(): { at: number; value: V } | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < items.length && items[l].at < items[min].at) min = l;
        if (r < items.length && items[r].at < items[min].at) min = r;
        if (min === i) break;
        [items[min], items[i]] = [items[i], items[min]];
        i = min;
      }
    }
    return top;
  }

  clear(): void {
    this.#items = [];
  }
}
