/**
 * The length of an OGG voice note, read from the container: the last page's granule position counts samples
 * (48 kHz for Opus, less its pre-skip; the identification header's rate for Vorbis). WhatsApp voice notes are
 * OGG Opus; the per-minute price of a transcription needs the length, which gpt-4o-mini-transcribe does not report.
 */

const CAPTURE = Buffer.from('OggS');

/** Seconds of audio in an OGG Opus or Vorbis file; undefined when it is not one or cannot be read. */
export function oggDurationSeconds(data: Buffer): number | undefined {
  if (data.length < 64 || !data.subarray(0, 4).equals(CAPTURE)) return undefined;
  // The first page holds the identification header, right after the segment table.
  const segments = data[26];
  const packet = data.subarray(27 + segments);
  let sampleRate: number;
  let preSkip = 0;
  if (packet.subarray(0, 8).toString('latin1') === 'OpusHead') {
    sampleRate = 48_000;
    preSkip = packet.readUInt16LE(10);
  } else if (packet.subarray(0, 7).toString('latin1') === '\u0001vorbis') {
    sampleRate = packet.readUInt32LE(12);
  } else {
    return undefined;
  }
  const last = data.lastIndexOf(CAPTURE);
  if (last < 0 || last + 14 > data.length || sampleRate <= 0) return undefined;
  const granule = data.readBigInt64LE(last + 6);
  if (granule <= 0n) return undefined;
  const seconds = (Number(granule) - preSkip) / sampleRate;
  return seconds > 0 && Number.isFinite(seconds) ? Math.round(seconds * 1000) / 1000 : undefined;
}
