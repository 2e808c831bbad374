cancel-done = Cancelled.
cancel-nothing = Nothing to cancel.
