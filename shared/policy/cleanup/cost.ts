/**
 * The storage cost behind archiving or deleting an image: a short text per image for the plan and the report.
 * Pure. Prices are Amazon ECR's private-repository storage prices as listed on https://aws.amazon.com/ecr/pricing/:
 * the archive figures were taken from three independent reports of that page and of the AWS Price List API from
 * March 2026 (us-east-1 and ap-northeast-1 agree), not from the page itself. They change by region and over time, so
 * the text is an explanation, not a bill.
 */

/** Standard storage, USD per GB-month. */
export const STANDARD_USD_PER_GB_MONTH = 0.1;
/** Archive storage for the first 150 TB of archive per month, USD per GB-month: the same as standard storage. */
export const ARCHIVE_USD_PER_GB_MONTH = 0.1;
/** Archive storage beyond the first 150 TB per month, USD per GB-month. */
export const ARCHIVE_BEYOND_150TB_USD_PER_GB_MONTH = 0.07;
/** ECR charges at least this many days of archive storage per archived image, even when it is deleted sooner. */
export const ARCHIVE_MINIMUM_DAYS = 90;
/** A restore from the archive takes up to this many minutes. */
export const RESTORE_MINUTES = 20;

const GB = 1024 ** 3;
const usd = (amount: number) => `$${amount < 0.01 && amount > 0 ? amount.toFixed(4) : amount.toFixed(2)}`;

/**
 * Why an image is archived or deleted, in storage terms. `archived` says the image is already in the archive (a
 * deletion of an archived image); `sizeInBytes` is what ECR reports (an index's is its largest child's, and it owns
 * no layers itself, so `ownsLayers` false prices nothing).
 */
export function costExplanation(
  action: 'archive' | 'delete',
  sizeInBytes: number,
  options: { archived?: boolean; ownsLayers?: boolean } = {},
): string {
  const gb = options.ownsLayers === false ? 0 : sizeInBytes / GB;
  const standard = usd(gb * STANDARD_USD_PER_GB_MONTH);
  if (action === 'archive') {
    return `archived, not deleted: reversible (restore within ${RESTORE_MINUTES} minutes); archive storage costs ${usd(ARCHIVE_USD_PER_GB_MONTH)}/GB-month like standard (${usd(ARCHIVE_BEYOND_150TB_USD_PER_GB_MONTH)} beyond 150 TB), with a ${ARCHIVE_MINIMUM_DAYS}-day minimum: at least ${usd(gb * ARCHIVE_USD_PER_GB_MONTH * 3)} for this image`;
  }
  if (options.archived === true) {
    return `deleted from the archive: stops ${usd(gb * ARCHIVE_USD_PER_GB_MONTH)}/month of archive storage (the ${ARCHIVE_MINIMUM_DAYS}-day minimum is charged anyway)`;
  }
  return deletedText(standard);
}

/**
 * The text of a deletion from standard storage, one string per amount: most of a repository's deletions cost the
 * same few cents, and a plan of 100,000 deletions then holds a few hundred strings, not 100,000 copies.
 */
const deletedTexts = new Map<string, string>();
// Stryker disable next-line all: the cache's bound only caps its memory; every text is the same with or without it.
const DELETED_TEXTS_MAX = 4_096;
function deletedText(standard: string): string {
  let text = deletedTexts.get(standard);
  if (text === undefined) {
    text = `deleted: stops ${standard}/month of standard storage; not reversible`;
    // Stryker disable next-line all: the cache's bound only caps its memory; every text is the same with or without it.
    if (deletedTexts.size >= DELETED_TEXTS_MAX) deletedTexts.clear();
    deletedTexts.set(standard, text);
  }
  return text;
}
