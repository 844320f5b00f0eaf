// Number formats shared by the progress lines, the Markdown table and the chart.

/** 34979.4 -> "34,979"; 1.234 -> "1.23"; 0.01234 -> "0.0123". */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** A ratio as "0.91x". */
export function formatRatio(value: number): string {
  return `${value >= 10 ? value.toFixed(1) : value >= 0.1 ? value.toFixed(2) : value.toFixed(3)}x`;
}
