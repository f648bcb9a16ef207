/** File `i` of a campaign folder as an AudioMoth deployment writes it: 50 sensors, a recording every 10 minutes. */
export function fieldFile(i: number) {
  const sensor = `SENSOR_${String(i % 50).padStart(3, '0')}`;
  const minute = Math.floor(i / 50) * 10;
  const day = new Date(Date.UTC(2025, 8, 1) + minute * 60_000).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return {
    relativePath: `${sensor}/${day.replace('T', '_')}.WAV`,
    size: 1_000_000 + (i % 1000),
    lastModified: Date.now(),
  };
}

/** The first `count` files of such a folder. */
export function fieldFolder(count: number) {
  return Array.from({ length: count }, (_, i) => fieldFile(i));
}
