-- Failed sign-ins to the staff page, per subject ('address:…', 'key:…'), in the
-- window that began with the subject's first failure.

-- name: throttled_for
-- Seconds until the last full window of these subjects ends; NULL when none is full.
SELECT ceil(extract(epoch FROM
           max(window_started_at) + make_interval(secs => $3) - now()))::integer
FROM staff_sign_in_failures
WHERE subject = ANY($1::text[])
  AND failures >= $2
  AND window_started_at > now() - make_interval(secs => $3);

-- name: count_failure
-- One more failure of each subject: within its window, or the first of a new one.
-- Locking: one row per subject, in the order given (sorted by the caller), so two
-- attempts on the same subjects lock them in one order and cannot deadlock.
INSERT INTO staff_sign_in_failures AS f (subject)
SELECT unnest($1::text[])
ON CONFLICT (subject) DO UPDATE SET
    failures = CASE
        WHEN f.window_started_at > now() - make_interval(secs => $2) THEN f.failures + 1
        ELSE 1
    END,
    window_started_at = CASE
        WHEN f.window_started_at > now() - make_interval(secs => $2) THEN f.window_started_at
        ELSE now()
    END;

-- name: delete_ended
DELETE FROM staff_sign_in_failures
WHERE window_started_at <= now() - make_interval(secs => $1);
