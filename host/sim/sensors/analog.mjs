// A voltage on an ADC pin of the virtual board (a soil moisture probe, a divider). Espruino's
// ESP32 build sets every ADC1 channel to 11 dB attenuation (targets/esp32/jshardwareAnalog.c:
// adc_channel[i] = ADC_ATTEN_DB_11, its "3600" mV range in rangeToAdcAtten) and 12-bit width, and
// analogRead returns the raw value / 4096 (jshardware.c jshPinAnalog); so a voltage reads as
// volts / fullScaleVolts, clipped to 0..4095/4096. Faults: 'open' (the probe's wire is off: the
// pin is pulled to ground by the divider's lower resistor, reads 0).

export function createAnalog({ device, pin, volts = 1.2, fullScaleVolts = 3.6 }) {
  const sim = {
    pin,
    volts,
    fault: null,
    set(v) {
      sim.volts = v;
      apply();
    },
    setFault(f) {
      sim.fault = f;
      apply();
    },
  };
  function apply() {
    device.pins.setAnalog(pin, sim.fault === 'open' ? 0 : sim.volts / fullScaleVolts);
  }
  apply();
  return sim;
}
