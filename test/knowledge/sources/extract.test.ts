import { describe, expect, it } from 'vitest';
import { extractDocument } from '../../../src/knowledge/sources/extract';
import { type SourceErrorCode, SourceError } from '../../../src/knowledge/sources/types';
import { buildPdf } from './pdf-fixtures';

const bytes = (text: string) => Buffer.from(text, 'utf8');

async function refusal(promise: Promise<unknown>): Promise<{ code: SourceErrorCode; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SourceError);
  const { code, message } = error as SourceError;
  return { code, message };
}

describe('extractDocument: Markdown', () => {
  const markdown = [
    '---',
    'title: "Returns and refunds"',
    'updated: 2026-01-01',
    '---',
    '# Returns',
    '',
    'You can return **any item** within _30 days_. See [our policy](https://example.com/policy) or',
    'write to <mailto:help@example.com>.',
    '',
    '## Conditions',
    '',
    '- Items must be *unused*',
    '- Keep the `receipt`',
    '',
    '| Item | Days |',
    '| ---- | ---: |',
    '| Shoes | 30 |',
    '',
    'Refund times',
    '------------',
    '',
    '> Refunds take 5 business days.',
    '',
    '```',
    '# not a heading',
    '```',
    '',
    '# Shipping',
    '![truck](truck.png) We ship \\*everywhere\\*.',
    '[policy]: https://example.com/policy',
  ].join('\n');

  it('opens a section per heading, under its heading path, and reads the markup as plain text', async () => {
    const document = await extractDocument({ bytes: bytes(markdown), fileName: 'returns.md' });
    expect(document.title).toBe('Returns and refunds');
    expect(document.sections).toEqual([
      {
        headingPath: ['Returns'],
        text: 'You can return any item within 30 days. See our policy or\nwrite to mailto:help@example.com.',
      },
      { headingPath: ['Returns', 'Conditions'], text: '- Items must be unused\n\n- Keep the receipt\n\nItem | Days\nShoes | 30' },
      { headingPath: ['Returns', 'Refund times'], text: 'Refunds take 5 business days.\n\n# not a heading' },
      { headingPath: ['Shipping'], text: 'truck We ship *everywhere*.' },
    ]);
  });

  it('joins the sections, each after the headings it opens, into the text that is fingerprinted', async () => {
    const document = await extractDocument({ bytes: bytes('# A\n\none\n\n## B\n\ntwo\n\n# C\n\nthree'), fileName: 'a.md' });
    expect(document.text).toBe('A\n\none\n\nB\n\ntwo\n\nC\n\nthree');
  });

  it('takes the first top-level heading as the title without front matter, and reads text/plain uploads named .md as Markdown', async () => {
    const document = await extractDocument({
      bytes: bytes('Intro line\n\n## Detail\n\nMore\n\n# Main title\n\nBody'),
      contentType: 'text/plain',
      fileName: 'x.md',
    });
    expect(document.title).toBe('Main title');
    expect(document.sections.map((section) => section.headingPath)).toEqual([[], ['Detail'], ['Main title']]);
  });
});

describe('extractDocument: plain text', () => {
  it('makes a section of each paragraph and takes the title from the file name', async () => {
    const document = await extractDocument({
      bytes: bytes('Opening hours\r\nMonday to Friday,   9 to 5.\r\n\r\n\r\nClosed on public holidays.\n'),
      contentType: 'text/plain; charset=utf-8',
      fileName: 'opening_hours.txt',
    });
    expect(document.title).toBe('opening hours');
    expect(document.sections).toEqual([
      { headingPath: [], text: 'Opening hours\nMonday to Friday, 9 to 5.' },
      { headingPath: [], text: 'Closed on public holidays.' },
    ]);
  });

  it('takes the title from the first line when there is no file name', async () => {
    const document = await extractDocument({ bytes: bytes('Price list 2026\nTea 2 EUR'), contentType: 'text/plain' });
    expect(document.title).toBe('Price list 2026');
  });

  it('keeps the text Unicode-clean: NFC, no NUL, no control characters, no lone surrogates, windows-1252 decoded', async () => {
    // Bytes that are not valid UTF-8 and declare no charset are read as windows-1252: curly quotes and an e acute.
    const legacy = await extractDocument({ bytes: Buffer.from([0x93, 0x43, 0x61, 0x66, 0xe9, 0x94]), fileName: 'menu.txt' });
    expect(legacy.text).toBe('\u201cCaf\u00e9\u201d');
    const utf8 = await extractDocument({ bytes: bytes('Cafe\u0301 au lait\u0007 \u2003costs\u00a0\u20ac3\u200b.'), fileName: 'menu.txt' });
    expect(utf8.text).toBe('Caf\u00e9 au lait costs \u20ac3.');
    const lone = await extractDocument({ bytes: Buffer.from('\ufeffhello \ud800 world', 'utf16le'), fileName: 'x.txt' });
    expect(lone.text).not.toMatch(/[\ud800-\udfff]/);
  });
});

describe('extractDocument: HTML', () => {
  const page = `<!doctype html>
<html><head><title>Returns | Acme</title><style>.x{}</style><script>var tracking = 1;</script></head>
<body>
  <header class="site"><a href="/">Acme</a> <nav><a href="/shop">Shop</a><a href="/help">Help</a></nav></header>
  <div id="cookie-banner">We use cookies. <button>Accept</button></div>
  <div class="breadcrumbs">Home &gt; Help</div>
  <main>
    <article>
      <header><h1>Returns &amp; refunds</h1></header>
      <p>You can return items within
         <strong>30&nbsp;days</strong>.</p>
      <h2>How to return</h2>
      <ol><li>Pack the item</li><li>Print the <a href="/label">label</a></li></ol>
      <h3>Fees</h3>
      <table><tr><th>Method</th><th>Fee</th></tr><tr><td>Post</td><td>Free</td></tr></table>
      <div hidden>Secret draft</div>
      <p style="display: none">Also hidden</p>
      <form><label>Email</label><input name="e"></form>
      <h2>Contact</h2>
      <p>Call us<br>any day.</p>
    </article>
    <aside>Related: gift cards</aside>
  </main>
  <footer><p>© Acme 2026</p></footer>
</body></html>`;

  it('reads the title and the main content under h1-h6, leaving out navigation, header, footer, aside, forms, scripts and banners', async () => {
    const document = await extractDocument({ bytes: bytes(page), contentType: 'text/html; charset=utf-8' });
    expect(document.title).toBe('Returns | Acme');
    expect(document.sections).toEqual([
      { headingPath: ['Returns & refunds'], text: 'You can return items within 30 days.' },
      { headingPath: ['Returns & refunds', 'How to return'], text: '- Pack the item\n\n- Print the label' },
      { headingPath: ['Returns & refunds', 'How to return', 'Fees'], text: 'Method | Fee\n\nPost | Free' },
      { headingPath: ['Returns & refunds', 'Contact'], text: 'Call us\nany day.' },
    ]);
    for (const boilerplate of ['Shop', 'cookies', 'Home > Help', 'gift cards', '© Acme', 'tracking', 'Secret', 'Also hidden', 'Email'])
      expect(document.text).not.toContain(boilerplate);
  });

  it('falls back to the first h1 for the title and to the body when there is no <main>', async () => {
    const document = await extractDocument({
      bytes: bytes('<html><body><nav>Menu</nav><h1>Opening hours</h1><p>9 to 5</p><footer>Footer</footer></body></html>'),
      fileName: 'hours.html',
    });
    expect(document.title).toBe('Opening hours');
    expect(document.text).toBe('Opening hours\n\n9 to 5');
  });

  it('leaves out ARIA landmarks, aria-hidden elements and consent dialogs, and keeps an article header and footer', async () => {
    const html = `<html><body>
      <div role="navigation">Products Services</div><div role="banner">Acme</div>
      <section><header><h2>Delivery</h2></header><p>Two days.</p><footer>Updated in May</footer></section>
      <div class="modal gdpr-consent">Accept all</div><span aria-hidden="true">*</span>
      <div role="contentinfo">Imprint</div></body></html>`;
    const document = await extractDocument({ bytes: bytes(html), contentType: 'application/xhtml+xml' });
    expect(document.sections).toEqual([{ headingPath: ['Delivery'], text: 'Two days.\n\nUpdated in May' }]);
  });

  it('reads unlabelled bytes that start like HTML as HTML, and other unlabelled text as plain text', async () => {
    const html = await extractDocument({ bytes: bytes('  <!DOCTYPE html><title>T</title><p>Body</p>') });
    expect(html).toEqual({ title: 'T', sections: [{ headingPath: [], text: 'Body' }], text: 'Body' });
    const text = await extractDocument({ bytes: bytes('Just <b>words</b>') });
    expect(text.text).toBe('Just <b>words</b>');
  });

  it('decodes the charset the page declares in a meta tag', async () => {
    const latin1 = Buffer.from(
      '<html><head><meta charset="iso-8859-1"><title>Caf\u00e9</title></head><body><p>Cr\u00e8me</p></body></html>',
      'latin1',
    );
    const document = await extractDocument({ bytes: latin1, contentType: 'text/html' });
    expect(document.title).toBe('Caf\u00e9');
    expect(document.text).toBe('Cr\u00e8me');
  });
});

describe('extractDocument: PDF', () => {
  it('reads the text of every page, with larger lines as headings and the document title', async () => {
    const pdf = buildPdf({
      title: 'Price list',
      pages: [
        [
          { text: 'Prices 2026', size: 20 },
          { text: 'Tea costs 2 EUR.' },
          { text: 'Coffee costs 3 EUR (a cup).' },
          { text: 'Drinks', size: 16 },
          { text: 'Juice 4 EUR.' },
        ],
        [{ text: 'Delivery is free.' }],
      ],
    });
    const document = await extractDocument({ bytes: pdf, contentType: 'application/pdf', fileName: 'prices.pdf' });
    expect(document.title).toBe('Price list');
    expect(document.sections).toEqual([
      { headingPath: ['Prices 2026'], text: 'Tea costs 2 EUR.\n\nCoffee costs 3 EUR (a cup).' },
      { headingPath: ['Prices 2026', 'Drinks'], text: 'Juice 4 EUR.\n\nDelivery is free.' },
    ]);
  });

  it('detects a PDF by its bytes even when it is labelled otherwise', async () => {
    const document = await extractDocument({
      bytes: buildPdf({ pages: [[{ text: 'Hello' }]] }),
      contentType: 'application/octet-stream',
      fileName: 'upload',
    });
    expect(document.text).toBe('Hello');
    expect(document.title).toBe('upload');
  });

  it('refuses a password-protected PDF as encrypted', async () => {
    const error = await refusal(
      extractDocument({ bytes: buildPdf({ pages: [[{ text: 'Secret' }]], encrypted: true }), fileName: 'secret.pdf' }),
    );
    expect(error.code).toBe('encrypted');
  });

  it('refuses a PDF with no text (a scan) as no_text', async () => {
    const error = await refusal(extractDocument({ bytes: buildPdf({ pages: [[], []] }), fileName: 'scan.pdf' }));
    expect(error).toEqual({ code: 'no_text', message: expect.stringContaining('no text') });
  });

  it('refuses a damaged PDF as unsupported_type', async () => {
    const error = await refusal(extractDocument({ bytes: bytes('%PDF-1.4\nthis is not really a PDF'), fileName: 'broken.pdf' }));
    expect(error.code).toBe('unsupported_type');
  });
});

describe('extractDocument: refusals', () => {
  it('refuses a file called .pdf that does not start with %PDF-', async () => {
    const error = await refusal(extractDocument({ bytes: bytes('<html>not a pdf</html>'), fileName: 'prices.pdf' }));
    expect(error).toEqual({ code: 'unsupported_type', message: 'prices.pdf is not a PDF: it does not start with %PDF-' });
    expect((await refusal(extractDocument({ bytes: bytes('plain'), contentType: 'application/pdf' }))).code).toBe('unsupported_type');
  });

  it('refuses images, archives, office files and other binary content, whatever they are called', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    expect(await refusal(extractDocument({ bytes: png, fileName: 'notes.txt' }))).toEqual({
      code: 'unsupported_type',
      message: 'notes.txt is a PNG image, not a text document',
    });
    const docx = Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);
    expect((await refusal(extractDocument({ bytes: docx, fileName: 'policy.docx' }))).code).toBe('unsupported_type');
    expect((await refusal(extractDocument({ bytes: Buffer.from([0x41, 0, 0x42]), fileName: 'data.txt' }))).code).toBe('unsupported_type');
  });

  it('refuses content types and extensions it does not read', async () => {
    expect((await refusal(extractDocument({ bytes: bytes('{}'), contentType: 'application/json' }))).code).toBe('unsupported_type');
    expect(await refusal(extractDocument({ bytes: bytes('a,b'), fileName: 'faq.csv' }))).toEqual({
      code: 'unsupported_type',
      message: expect.stringContaining('.csv files are not supported'),
    });
  });

  it('refuses a document over the size cap before reading it', async () => {
    const error = await refusal(extractDocument({ bytes: Buffer.alloc(2048, 'a'), fileName: 'big.txt', maxBytes: 1024 }));
    expect(error).toEqual({ code: 'too_large', message: 'the document is 2048 bytes; the limit is 1024 bytes' });
  });

  it('refuses empty documents and documents with nothing readable as no_text', async () => {
    expect((await refusal(extractDocument({ bytes: Buffer.alloc(0), fileName: 'empty.md' }))).code).toBe('no_text');
    expect(
      (
        await refusal(
          extractDocument({ bytes: bytes('<html><body><nav>Menu</nav><script>x()</script></body></html>'), contentType: 'text/html' }),
        )
      ).code,
    ).toBe('no_text');
  });
});
