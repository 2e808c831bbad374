cancel-done = Отменено.
cancel-nothing = Отменять нечего.
