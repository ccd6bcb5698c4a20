"""The apps under test, each built in one place: ours (`ours`, served by `serve`), the
plain equivalents (`bare`), the in-process rows' trivial apps (`probe`), and the
settings and database they run with."""
