-- Staged first frames by their last use: receiver/store/staged_inputs.py (StagedInputs).

-- name: touch_staged_input
INSERT INTO staged_inputs (object_key, last_used_at) VALUES (:key, :now)
ON CONFLICT (object_key) DO UPDATE SET last_used_at = :now;

-- name: get_staged_input
SELECT last_used_at FROM staged_inputs WHERE object_key = :key;

-- name: forget_staged_input
DELETE FROM staged_inputs WHERE object_key = :key AND last_used_at < :before;
