import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimpleDateFormat } from './simple-date-format.js';

const at = Date.UTC(2024, 11, 31, 13, 5, 9, 7); // a Tuesday

describe('SimpleDateFormat', () => {
  it('formats the common letters in UTC', () => {
    assert.equal(new SimpleDateFormat('yyyy-MM-dd HH:mm:ss.SSS').format(at), '2024-12-31 13:05:09.007');
    assert.equal(new SimpleDateFormat("yyMMdd'T'H").format(at), '241231T13');
    assert.equal(new SimpleDateFormat('EEE, d MMM yyyy hh:mm a z').format(at), 'Tue, 31 Dec 2024 01:05 PM UTC');
    assert.equal(new SimpleDateFormat('EEEE MMMM D').format(at), 'Tuesday December 366');
    assert.equal(new SimpleDateFormat("'quoted ''x''' Z XXX").format(at), "quoted 'x' +0000 Z");
    assert.equal(new SimpleDateFormat('YYYY-ww u').format(at), '2025-01 2', 'the week holding January 1st is week 1 of the next year');
    const year = (full: number) => new Date(0).setUTCFullYear(full, 0, 1);
    assert.equal(new SimpleDateFormat('y G').format(year(1)), '1 AD');
    assert.equal(new SimpleDateFormat('y G').format(year(0)), '1 BC', 'year 0 is 1 BC');
  });

  it('refuses what Java refuses', () => {
    assert.throws(() => new SimpleDateFormat('yyyy-qq'), /Illegal pattern character 'q'/);
    assert.throws(() => new SimpleDateFormat("yyyy 'open"), /Unterminated quote/);
  });

  it('parses leniently, abutting fields by width, trailing text ignored', () => {
    assert.equal(new SimpleDateFormat('yyyyMMdd').parse('20240229').getTime(), Date.UTC(2024, 1, 29));
    assert.equal(new SimpleDateFormat('yyyy-MM-dd HH:mm:ss.SSS').parse('2024-2-3 4:05:06.7').getTime(), Date.UTC(2024, 1, 3, 4, 5, 6, 7));
    assert.equal(new SimpleDateFormat('yyyy-MM-dd').parse('2024-13-01').getTime(), Date.UTC(2025, 0, 1), 'month 13 rolls over');
    assert.equal(new SimpleDateFormat('dd MMM yyyy hh:mm a').parse('05 feb 2024 12:30 am extra').getTime(), Date.UTC(2024, 1, 5, 0, 30));
    assert.equal(new SimpleDateFormat("yyyy-MM-dd'T'HH:mmXXX").parse('2024-01-01T10:00+02:00').getTime(), Date.UTC(2024, 0, 1, 8));
    assert.equal(new SimpleDateFormat('yyyy').parse('0024').getUTCFullYear(), 24);
    assert.throws(() => new SimpleDateFormat('yyyy-MM-dd').parse('2024/01/01'), /Unparseable date: "2024\/01\/01"/);
  });
});
