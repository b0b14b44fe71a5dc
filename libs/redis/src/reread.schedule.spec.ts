import type { Logger } from '@nestjs/common';
import { REREAD_DELAY_MS, RereadSchedule } from './reread.schedule';

describe('RereadSchedule', () => {
  const logger = { warn: jest.fn(), debug: jest.fn() };
  const read = jest.fn();
  let schedule: RereadSchedule;

  beforeEach(() => {
    jest.useFakeTimers();
    jest.clearAllMocks();
    schedule = new RereadSchedule(logger as unknown as Logger, 'The route table', read);
  });
  afterEach(() => {
    schedule.stop();
    jest.useRealTimers();
  });

  it('reads again after a failure, warning only when failures follow each other', () => {
    schedule.failed(new Error('connection is closed'));
    expect(logger.debug).toHaveBeenCalledWith(
      `The route table could not be read (connection is closed); reading again in ${REREAD_DELAY_MS} ms`,
    );
    expect(logger.warn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(REREAD_DELAY_MS);
    expect(read).toHaveBeenCalledTimes(1);

    schedule.failed(new Error('still closed'));
    expect(logger.warn).toHaveBeenCalledWith('The route table could not be read (still closed)');

    schedule.succeeded();
    schedule.failed(new Error('a blip'));
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('keeps one pending read however many failures come, and none once stopped', () => {
    schedule.failed(new Error('a'));
    schedule.failed(new Error('b'));
    jest.advanceTimersByTime(REREAD_DELAY_MS);
    expect(read).toHaveBeenCalledTimes(1);

    schedule.failed(new Error('c'));
    schedule.stop();
    jest.advanceTimersByTime(REREAD_DELAY_MS);
    expect(read).toHaveBeenCalledTimes(1);
  });
});
