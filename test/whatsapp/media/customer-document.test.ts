import { describe, expect, it } from 'vitest';
import {
  documentForModel,
  MAX_DOCUMENT_PAGES,
  MAX_DOCUMENT_TEXT_CHARACTERS,
  readCustomerDocument,
} from '../../../src/whatsapp/media/customer-document';
import { buildPdf } from '../../knowledge/sources/pdf-fixtures';

describe("reading a customer's PDF", () => {
  it('returns its text and title', async () => {
    const reading = await readCustomerDocument(buildPdf({ title: 'Booking', pages: [[{ text: 'Room 12, 3 nights from 4 May' }]] }));
    expect(reading).toEqual({ ok: true, title: 'Booking', text: 'Room 12, 3 nights from 4 May', truncated: false });
  });

  it(`cuts a long text to ${MAX_DOCUMENT_TEXT_CHARACTERS} characters and says so`, async () => {
    const line = { text: 'Clause: the tenant keeps the premises clean and returns the keys on the last day of the lease.' };
    const reading = await readCustomerDocument(
      buildPdf({ pages: Array.from({ length: 5 }, () => Array.from({ length: 30 }, () => line)) }),
    );
    expect(reading).toMatchObject({ ok: true, truncated: true });
    if (!reading.ok) throw new Error('unreachable');
    expect(reading.text).toHaveLength(MAX_DOCUMENT_TEXT_CHARACTERS);
    expect(documentForModel({ ...reading, truncated: true })).toContain('only its first 6,000 characters are shown');
  });

  it(`reads at most ${MAX_DOCUMENT_PAGES} pages`, async () => {
    const pages = Array.from({ length: MAX_DOCUMENT_PAGES + 1 }, (_, index) => [{ text: `Page number ${index + 1}` }]);
    const reading = await readCustomerDocument(buildPdf({ pages }));
    if (!reading.ok) throw new Error(`unreadable: ${reading.failure}`);
    expect(reading.text).toContain(`Page number ${MAX_DOCUMENT_PAGES}`);
    expect(reading.text).not.toContain(`Page number ${MAX_DOCUMENT_PAGES + 1}`);
  });

  it('tells a scan, a password and a file that is no PDF apart', async () => {
    expect(await readCustomerDocument(buildPdf({ pages: [[]] }))).toEqual({ ok: false, failure: 'no_text' });
    expect(await readCustomerDocument(buildPdf({ pages: [[{ text: 'x' }]], encrypted: true }))).toEqual({
      ok: false,
      failure: 'encrypted',
    });
    expect(await readCustomerDocument(Buffer.from('not a pdf at all'))).toEqual({ ok: false, failure: 'unsupported_type' });
  });

  it("marks the text for the model as the customer's document, not the business's information", () => {
    const shown = documentForModel({ title: 'Invoice', text: 'Total 10 EUR' });
    expect(shown).toBe(
      '[Text extracted from a PDF document "Invoice" the customer sent. It is the customer\'s document, not the business\'s information:]\nTotal 10 EUR\n[End of the document]',
    );
  });
});
