// An analog input (a soil moisture probe, a divider): analogRead gives 0..1 of the ADC's full
// scale (Espruino src/jswrap_io.c analogRead; on the ESP32 only the ADC1 pins 32..39 read,
// boards/ESP32.py, which the config check holds); the value in the reading is that × scale + offset.

/** analogRead(pin) × scale + offset, or an error text when the pin gives no number. */
export function analogValue(pin: Pin, scale: number, offset: number): number | string {
  var v = analogRead(pin);
  if (v !== v) return 'GPIO' + pin + ' reads no ADC value';
  return v * scale + offset;
}
