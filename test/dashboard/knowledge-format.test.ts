/** How the dashboard's Knowledge section words documents and the passages of a retrieval test (no browser needed). */
import { describe, expect, it } from 'vitest';
import {
  answerSourceLine,
  documentSource,
  documentStatus,
  indexingInProgress,
  type KnowledgeDocument,
  keywordLeg,
  passageHeading,
  passageKind,
  vectorLeg,
  vectorLegSummary,
} from '../../dashboard/knowledge-format';

/** A document as the list API returns it, ready, with the given changes. */
function documentOf(overrides: Partial<KnowledgeDocument> = {}): KnowledgeDocument {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    title: 'Returns policy',
    source_kind: 'file',
    source_url: null,
    file_name: 'returns.md',
    status: 'ready',
    failure_reason: null,
    chunk_count: 2,
    embedding_model: null,
    last_synced_at: '2026-12-02T12:00:00.000Z',
    ...overrides,
  };
}

describe('the Knowledge section of the dashboard', () => {
  describe('a document row', () => {
    it('names the source by kind and file name or URL, and the Q/A document by what it holds', () => {
      expect(documentSource(documentOf())).toBe('File · returns.md');
      expect(documentSource(documentOf({ source_kind: 'url', file_name: null, source_url: 'https://shop.example/returns' }))).toBe(
        'Web page · https://shop.example/returns',
      );
      expect(documentSource(documentOf({ source_kind: 'faq', file_name: null, title: 'Questions and answers' }))).toBe(
        'Q/A entries and approved corrections',
      );
    });

    it('shows a failed document with its reason, and the other states by name', () => {
      expect(documentStatus(documentOf({ status: 'failed', failure_reason: 'encrypted: the PDF is encrypted' }))).toBe(
        'Failed: encrypted: the PDF is encrypted',
      );
      expect(documentStatus(documentOf({ status: 'indexing' }))).toBe('Indexing…');
      expect(documentStatus(documentOf())).toBe('Ready');
    });

    it('keeps following the list while a document is queued or being indexed', () => {
      expect(indexingInProgress([documentOf(), documentOf({ status: 'queued' })])).toBe(true);
      expect(indexingInProgress([documentOf(), documentOf({ status: 'failed' })])).toBe(false);
    });
  });

  describe('a passage of the retrieval test', () => {
    const fromEntry = { kind: 'entry' as const, title: 'Questions and answers', heading_path: ['Do you ship to the Azores?'] };

    it('says what it is and where it is from', () => {
      expect(passageKind(fromEntry)).toBe('Q/A entry');
      expect(passageKind({ kind: 'correction' })).toBe('Approved correction');
      expect(passageHeading(fromEntry)).toBe('Do you ship to the Azores?');
      // A document's title is often its first heading: said once.
      expect(passageHeading({ kind: 'document', title: 'Returns', heading_path: ['Returns', 'Refunds'] })).toBe('Returns › Refunds');
    });

    it("shows both legs' ranks and scores, and why a leg has none", () => {
      expect(keywordLeg({ keyword: { rank: 1, score: 0.4, coverage: 2 / 3 } })).toBe('Keyword #1 · ts_rank_cd 0.400 · 67% of the words');
      expect(keywordLeg({ keyword: null })).toBe('Keyword: not found');
      expect(vectorLeg({ vector: { rank: 2, similarity: 0.8123 } }, 'used')).toBe('Vector #2 · cosine 0.812');
      expect(vectorLeg({ vector: null }, 'used')).toBe('Vector: not in its top results');
      expect(vectorLeg({ vector: null }, 'no_provider')).toBe('Vector: not used');
      expect(vectorLegSummary('no_provider')).toBe('Keyword search only: the tenant has no embedding provider (offline).');
    });
  });
});

describe('the sources under a bot answer', () => {
  it('names a document passage by title and headings, with where it comes from', () => {
    expect(
      answerSourceLine({
        chunk_id: '7',
        kind: 'document',
        title: 'Policy',
        heading_path: ['Returns', 'Refunds'],
        location: 'https://shop.example/returns',
      }),
    ).toBe('Document: Policy › Returns › Refunds (https://shop.example/returns)');
  });

  it('does not repeat a title that is also the first heading', () => {
    expect(answerSourceLine({ chunk_id: '7', kind: 'document', title: 'Returns', heading_path: ['Returns'], location: 'returns.md' })).toBe(
      'Document: Returns (returns.md)',
    );
  });

  it('names a Q/A entry or a correction by its question', () => {
    expect(answerSourceLine({ chunk_id: '8', kind: 'entry', title: 'Do you ship to Lisbon?', heading_path: [], location: null })).toBe(
      'Q/A entry: Do you ship to Lisbon?',
    );
    expect(answerSourceLine({ chunk_id: '9', kind: 'correction', title: 'Where is my order?', heading_path: [], location: null })).toBe(
      'Approved correction: Where is my order?',
    );
  });

  it('says when a passage has changed since the answer', () => {
    expect(answerSourceLine({ chunk_id: '10', kind: 'removed' })).toBe('A passage since changed or removed from the knowledge base');
  });
});
