-- 002_jobs.sql - job runs and the scheduler's memory (issue 6).
--
-- A job run is a row of runs with command 'run' and job set; runs.job and
-- runs.scheduled_for come from 001.  Added here: the attempt number of the
-- run for its slot, the signal that ended it (when a signal did), and the
-- per-step results as a JSON array.  job_slots keeps, per job, the last
-- scheduled slot the scheduler dealt with (ran, skipped, or the moment it
-- first saw the job), from which missed runs are decided at start-up.
ALTER TABLE runs ADD COLUMN attempt INTEGER;
ALTER TABLE runs ADD COLUMN signal INTEGER;
ALTER TABLE runs ADD COLUMN steps TEXT;     -- JSON array, one object per step
CREATE INDEX runs_job ON runs(job, id);

CREATE TABLE job_slots (
  job        TEXT PRIMARY KEY,
  last_slot  TEXT NOT NULL,    -- ISO 8601 UTC, 'YYYY-MM-DDTHH:MM:SSZ'
  updated_at TEXT NOT NULL
);
