# The morning digest (bot/jobs/digest.py, bot/rendering/digest.py) and its part of /settings.

digest-title = ☀️ <b>Digest for { DATETIME($day, dateStyle: "full") }</b>
digest-title-own = ☀️ <b>Your digest for { DATETIME($day, dateStyle: "full") }</b>
digest-today = <b>Today</b>, { $count ->
    [one] one scheduled callback:
   *[other] { $count } scheduled callbacks:
}
digest-today-none = <b>Today</b>: no scheduled callbacks.
digest-more = …and { $count } more: /list
digest-yesterday = <b>Yesterday</b>: { $processed } took place · { $unsuccessful } did not take place · { $terminated } terminated
digest-yesterday-none = <b>Yesterday</b>: no consultation ended.
digest-hand = <b>Needs a hand</b>
digest-hand-none = <b>Needs a hand</b>: nothing.
digest-hand-unknown = Starts not confirmed (the service's answer was lost): { $count }
digest-hand-unrepeated = Did not take place and not started again: { $count }

## /settings
digest-setting-at =
    <b>Morning digest</b>: at { $time }{ $default ->
        [yes] {" "}(the default for your role)
       *[no] {""}
    }, next { $next }.
    Today's callbacks, yesterday's outcomes and what needs a hand, in one message.
digest-setting-off =
    <b>Morning digest</b>: off.
    Pick a time to get today's callbacks, yesterday's outcomes and what needs a hand each morning.
digest-next-today = today
digest-next-tomorrow = tomorrow
digest-button-off = Off
digest-button-other = Other time…
digest-button-other-current = ✓ { $time } · other…
digest-set-toast = Morning digest: { $time }.
digest-off-toast = Morning digest: off.
digest-time-ask = Type the time of your morning digest as HH:MM, for example <code>08:30</code> (your zone: { $zone }). /cancel leaves it as it is.
digest-time-bad = I did not recognise that time. Type it as HH:MM, for example <code>08:30</code> or <code>7:45</code>, or press /cancel.
