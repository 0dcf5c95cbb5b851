"""Top artists: Luigi's classic example pipeline, written for nbflow.

Each day's listening log is generated (deterministically, so runs are repeatable),
plays are counted per artist over a date interval, and the ten most played artists are
ranked. Run it from the repository root::

    nbflow run --module examples.top_artists Top10Artists --date-interval 2024-06

Only the standard Luigi API is used, so ``import luigi as nbflow`` runs it too.
"""

from __future__ import annotations

import csv
import datetime as dt
import random

import pandas as pd

import nbflow

ARTISTS = (
    "The Lumineers",
    "Nina Simone",
    "Radiohead",
    "Fela Kuti",
    "Beach House",
    "Kendrick Lamar",
    "Caetano Veloso",
    "Portishead",
    "Aretha Franklin",
    "Daft Punk",
    "Tinariwen",
    "Joni Mitchell",
    "Massive Attack",
    "Miles Davis",
    "Khruangbin",
)
TRACKS_PER_ARTIST = 8


class Streams(nbflow.Task):
    """Generate one day's fake listening log: ``timestamp,artist,track`` rows."""

    date = nbflow.DateParameter()
    #: How many plays the day has.
    plays = nbflow.IntParameter(default=1000)
    #: Directory that receives every output of the pipeline.
    data_dir = nbflow.Parameter(default="data")

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(f"{self.data_dir}/streams/{self.date:%Y-%m-%d}.csv")

    def run(self) -> None:
        rng = random.Random(self.date.toordinal())  # same day, same log
        # A long-tailed popularity, shuffled per day so the ranking changes over time.
        weights = [1.0 / rank for rank in range(1, len(ARTISTS) + 1)]
        rng.shuffle(weights)
        midnight = dt.datetime.combine(self.date, dt.time())
        seconds = sorted(rng.randrange(24 * 60 * 60) for _ in range(self.plays))
        with self.output().open("w") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["timestamp", "artist", "track"])
            for second in seconds:
                artist = rng.choices(ARTISTS, weights)[0]
                track = f"{artist} #{rng.randrange(TRACKS_PER_ARTIST) + 1}"
                timestamp = midnight + dt.timedelta(seconds=second)
                writer.writerow([timestamp.isoformat(), artist, track])


class AggregateArtists(nbflow.Task):
    """Count the plays of each artist over a date interval."""

    date_interval = nbflow.DateIntervalParameter()
    #: Directory that receives every output of the pipeline.
    data_dir = nbflow.Parameter(default="data")

    def requires(self) -> list[Streams]:
        return [Streams(date=day, data_dir=self.data_dir) for day in self.date_interval]

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(
            f"{self.data_dir}/artist_streams_{self.date_interval}.csv"
        )

    def run(self) -> None:
        frames = []
        for target in self.input():
            with target.open("r") as day:
                frames.append(pd.read_csv(day))
        streams = pd.concat(frames, ignore_index=True)
        counts = (
            streams.groupby("artist")
            .size()
            .rename("plays")
            .reset_index()
            .sort_values(["plays", "artist"], ascending=[False, True])
        )
        with self.output().open("w") as out:
            counts.to_csv(out, index=False)


class Top10Artists(nbflow.Task):
    """Rank the ten most played artists of a date interval, as ``rank artist plays``."""

    date_interval = nbflow.DateIntervalParameter()
    #: Write a ``rank, artist, plays`` header line first.
    header = nbflow.BoolParameter(default=False)
    #: Directory that receives every output of the pipeline.
    data_dir = nbflow.Parameter(default="data")

    def requires(self) -> AggregateArtists:
        return AggregateArtists(
            date_interval=self.date_interval, data_dir=self.data_dir
        )

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(
            f"{self.data_dir}/top_artists_{self.date_interval}.tsv"
        )

    def run(self) -> None:
        with self.input().open("r") as counts_file:
            counts = pd.read_csv(counts_file)
        top = counts.sort_values(["plays", "artist"], ascending=[False, True]).head(10)
        with self.output().open("w") as out:
            if self.header:
                out.write("rank\tartist\tplays\n")
            for rank, row in enumerate(top.itertuples(index=False), start=1):
                out.write(f"{rank}\t{row.artist}\t{row.plays}\n")
