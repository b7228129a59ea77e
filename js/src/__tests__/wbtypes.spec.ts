import { describe, expect, it } from 'vitest';

import cases from '../../../tests/wb_type_cases.json';
import { IWBType } from '../tokens';
import { typeRows } from '../wbtypes';

describe('typeRows', () => {
  for (const testCase of cases) {
    it(`reads W&B types as Python does: ${testCase.about}`, () => {
      expect(typeRows(testCase.types as IWBType)).toEqual(testCase.rows);
    });
  }
});
