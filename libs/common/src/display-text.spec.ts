import { isSafeDisplayText } from './display-text';

describe('isSafeDisplayText', () => {
  it.each(['Ada Lovelace', 'Zoë', '李小龍', 'שלום', 'مرحبا', 'emoji 🎉', 'tab\u00a0nbsp'])(
    'accepts %j',
    (text) => expect(isSafeDisplayText(text)).toBe(true),
  );

  it.each([
    ['NUL', 'a\u0000b'],
    ['a C0 control (escape)', 'a\u001b[31mred'],
    ['a newline', 'line\nbreak'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['a left-to-right mark', 'a\u200eb'],
    ['a right-to-left mark', 'a\u200fb'],
    ['a right-to-left override', 'evil\u202egpj.exe'],
    ['a left-to-right embedding', 'a\u202ab'],
    ['a first-strong isolate', 'a\u2068b'],
    ['a pop directional isolate', 'a\u2069b'],
  ])('refuses %s', (_what, text) => expect(isSafeDisplayText(text)).toBe(false));
});
