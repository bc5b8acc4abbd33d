"""Use cases that wire storage and computation: a detection run (:mod:`.detect`) and calibration
(:mod:`.calibrate`). The CLI, the API and bench call these, never the stages one by one."""
