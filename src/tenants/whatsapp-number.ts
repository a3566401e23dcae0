/** WhatsApp addresses as Twilio writes them ("whatsapp:+14155238886") and the E.164 numbers we store. */

const E164 = /^\+[1-9]\d{6,14}$/;

/** "whatsapp:+1 415-523-8886" or "+14155238886" -> "+14155238886"; null when it is not a phone number. */
export function toE164(address: string): string | null {
  const withoutChannel = address.trim().replace(/^whatsapp:/i, '');
  const compact = withoutChannel.replace(/[\s().-]/g, '');
  return E164.test(compact) ? compact : null;
}

/** "+14155238886" -> "whatsapp:+14155238886". */
export function toWhatsAppAddress(e164: string): string {
  return `whatsapp:${e164}`;
}
