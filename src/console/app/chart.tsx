// Line charts drawn as SVG by hand: a time axis, a value axis from zero, one polyline per series.
const SVG = 'http://www.w3.org/2000/svg';

export interface Series {
  name: string;
  points: { at: number; value: number }[];
  color: string;
}

function node<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

export function lineChart(title: string, series: Series[], unit: string, id: string): SVGSVGElement {
  const width = 640;
  const height = 200;
  const left = 56;
  const bottom = 24;
  const top = 24;
  const svg = node('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', id, role: 'img', 'aria-label': title });
  svg.appendChild(node('text', { x: left, y: 14, class: 'chart-title' }, title));
  const all = series.flatMap((entry) => entry.points);
  if (all.length === 0) {
    svg.appendChild(node('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'waiting for samples...'));
    return svg;
  }
  const minAt = Math.min(...all.map((point) => point.at));
  const maxAt = Math.max(...all.map((point) => point.at), minAt + 1);
  const maxValue = Math.max(...all.map((point) => point.value), 1) * 1.1;
  const x = (at: number) => left + ((at - minAt) / (maxAt - minAt)) * (width - left - 8);
  const y = (value: number) => height - bottom - (value / maxValue) * (height - bottom - top);
  for (const fraction of [0, 0.5, 1]) {
    const value = maxValue * fraction;
    svg.appendChild(node('line', { x1: left, x2: width - 8, y1: y(value), y2: y(value), class: 'chart-grid' }));
    svg.appendChild(node('text', { x: left - 4, y: y(value) + 4, 'text-anchor': 'end', class: 'chart-label' }, `${value >= 100 ? Math.round(value) : value.toFixed(1)}${unit}`));
  }
  svg.appendChild(node('text', { x: left, y: height - 6, class: 'chart-label' }, new Date(minAt).toLocaleTimeString()));
  svg.appendChild(node('text', { x: width - 8, y: height - 6, 'text-anchor': 'end', class: 'chart-label' }, new Date(maxAt).toLocaleTimeString()));
  series.forEach((entry, index) => {
    if (entry.points.length > 0) svg.appendChild(node('polyline', { points: entry.points.map((point) => `${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`).join(' '), fill: 'none', stroke: entry.color, 'stroke-width': 2 }));
    svg.appendChild(node('text', { x: width - 8, y: 14 + index * 12, 'text-anchor': 'end', fill: entry.color, class: 'chart-label' }, entry.name));
  });
  return svg;
}
