/**
 * W&B type-registry JSON read for display: the same rows and labels as `type_rows` and
 * `type_label` in jupyter_jobs/models.py (both are tested on tests/wb_type_cases.json).
 */
import { IWBType } from './tokens';

/** Flatten a typed dict into `(dotted key, type)` rows; nested dicts become dotted keys. */
export function typeRows(
  type: IWBType | null | undefined,
  prefix = ''
): [string, string][] {
  const map = type?.wb_type === 'typedDict' ? type.params?.type_map : undefined;
  if (!map) {
    return [];
  }
  return Object.entries(map).flatMap(([key, value]) => {
    const name = prefix ? `${prefix}.${key}` : key;
    const nested = typeRows(value, name);
    return nested.length
      ? nested
      : [[name, typeLabel(value)] as [string, string]];
  });
}

/** A short, Python-ish label for a W&B type-registry JSON type. */
function typeLabel(type: IWBType | null | undefined): string {
  if (!type || !type.wb_type) {
    return 'unknown';
  }
  const params = type.params ?? {};
  switch (type.wb_type) {
    case 'typedDict':
      return 'dict';
    case 'list':
      return `list[${typeLabel(params.element_type)}]`;
    case 'union':
      return (params.allowed_types ?? []).map(typeLabel).join(' | ');
    case 'none':
      return 'None';
    default:
      return type.wb_type;
  }
}
