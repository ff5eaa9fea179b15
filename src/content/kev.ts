import { readFileSync } from 'node:fs';
import { z } from 'zod/v3';
import { VigilError } from '../core/index.js';

/** One entry of CISA's Known Exploited Vulnerabilities catalogue, as far as Vigil uses it. */
const KevEntrySchema = z.object({
  cveID: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
  vendorProject: z.string().default(''),
  product: z.string().default(''),
  vulnerabilityName: z.string().default(''),
  dateAdded: z.string(),
  dueDate: z.string().optional(),
  knownRansomwareCampaignUse: z.string().optional(),
  shortDescription: z.string().default(''),
});

export type KevEntry = z.infer<typeof KevEntrySchema>;

export interface KevCatalog {
  version?: string;
  released?: string;
  entries: Map<string, KevEntry>;
  /** Entries that did not have the catalogue's shape, with where and why; the rest still load. */
  problems: VigilError[];
}

export function readKevCatalog(file: string): KevCatalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new VigilError('KEV_INVALID', `cannot read the KEV catalogue: ${(error as Error).message}`, {
      file,
    });
  }
  const document = raw as { catalogVersion?: unknown; dateReleased?: unknown; vulnerabilities?: unknown };
  if (typeof raw !== 'object' || raw === null || !Array.isArray(document.vulnerabilities)) {
    throw new VigilError('KEV_INVALID', 'not a KEV catalogue: expected a "vulnerabilities" array', {
      file,
      field: 'vulnerabilities',
    });
  }
  const entries = new Map<string, KevEntry>();
  const problems: VigilError[] = [];
  document.vulnerabilities.forEach((item, i) => {
    const parsed = KevEntrySchema.safeParse(item);
    if (parsed.success) entries.set(parsed.data.cveID, parsed.data);
    else {
      const issue = parsed.error.issues[0]!;
      problems.push(
        new VigilError('KEV_ENTRY_INVALID', issue.message, {
          file,
          field: `vulnerabilities[${i}]${issue.path.length ? `.${issue.path.join('.')}` : ''}`,
        }),
      );
    }
  });
  return {
    version: typeof document.catalogVersion === 'string' ? document.catalogVersion : undefined,
    released: typeof document.dateReleased === 'string' ? document.dateReleased : undefined,
    entries,
    problems,
  };
}
