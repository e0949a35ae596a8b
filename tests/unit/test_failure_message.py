"""A step failure's message chain is stated once: a dg.Failure raised from the exception it describes
repeats that exception's text (the CLI printed the catalogue's stop message twice per line)."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.runner import failure_message


@dataclass
class Error:  # the shape of Dagster's SerializableErrorInfo that failure_message reads
    message: str
    cause: Error | None = None
    context: Error | None = None


def test_a_failure_raised_from_the_exception_it_describes_is_stated_once():
    text = "SSB-katalogen stemmer ikke med SSB: 2 konfigurerte koder mangler\n  - tabell 12008 …"
    error = Error(f"dagster._core.definitions.events.Failure: {text}\n",
                  cause=Error(f"orchestration.ingest.ssb.catalogue.CatalogueMismatch: {text}\n"))
    assert failure_message(error) == text


def test_a_cause_that_adds_something_is_kept():
    error = Error("dagster._core.errors.DagsterExecutionStepExecutionError: Exceeded max_retries",
                  cause=Error("builtins.RuntimeError: SSB table 12008: HTTP 503"))
    assert failure_message(error) == ("dagster._core.errors.DagsterExecutionStepExecutionError: Exceeded max_retries"
                                      " ← builtins.RuntimeError: SSB table 12008: HTTP 503")
