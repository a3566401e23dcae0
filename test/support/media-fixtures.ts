/**
 * Media a customer sends, for tests: an OGG Opus voice note whose container says how long it lasts and whose bytes
 * carry what it "says" (the fake OpenAI and Gemini servers hear the text after SPOKEN:), and a small photo.
 */
import { seededRandom } from './seeded-random';

/** One OGG page: capture pattern, version, header type, granule position, serial, sequence, CRC (unchecked), segments. */
function oggPage(headerType: number, granule: bigint, sequence: number, packet: Buffer): Buffer {
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[4] = 0;
  header[5] = headerType;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(0x5041524c, 14);
  header.writeUInt32LE(sequence, 18);
  header.writeUInt32LE(0, 22);
  header[26] = 1;
  return Buffer.concat([header, Buffer.from([packet.length]), packet]);
}

/** A WhatsApp-like voice note (audio/ogg, Opus) of `seconds` that says `text`. */
export function voiceNote(text: string, seconds = 5): Buffer {
  const preSkip = 312;
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 1; // mono
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(16_000, 12);
  const speech = Buffer.concat([Buffer.from('SPOKEN:'), Buffer.from(text, 'utf8'), Buffer.from([0])]);
  return Buffer.concat([
    oggPage(2, 0n, 0, head),
    oggPage(0, 0n, 1, Buffer.from('OpusTags')),
    oggPage(0, 960n, 2, speech),
    oggPage(4, BigInt(seconds * 48_000 + preSkip), 3, Buffer.from([0xf8, 0xff, 0xfe])),
  ]);
}

/** A JPEG-looking photo of `bytes` bytes (SOI marker, seeded noise, EOI marker). */
export function photo(bytes = 2048): Buffer {
  const random = seededRandom(`photo ${bytes}`);
  const data = Buffer.alloc(bytes);
  for (let index = 0; index < bytes; index += 1) data[index] = Math.floor(random() * 256);
  data.set([0xff, 0xd8, 0xff, 0xe0], 0);
  data.set([0xff, 0xd9], bytes - 2);
  return data;
}
